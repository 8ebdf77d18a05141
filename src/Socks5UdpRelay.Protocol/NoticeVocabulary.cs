namespace Socks5UdpRelay.Protocol;

/// <summary>The verbs of notice lines (DESIGN.md, "Notices").</summary>
public static class NoticeVerbs
{
    public const string Notices = "NOTICES";
    public const string UdpError = "UDP-ERROR";
    public const string UdpDenied = "UDP-DENIED";
    public const string UdpUnresolved = "UDP-UNRESOLVED";
    public const string Closing = "CLOSING";
}

/// <summary>The keys of notice lines.</summary>
public static class NoticeKeys
{
    public const string Version = "version";
    public const string Destination = "dst";
    public const string Address = "addr";
    public const string Error = "error";
    public const string Errno = "errno";
    public const string Icmp = "icmp";
    public const string Icmp6 = "icmp6";
    public const string From = "from";
    public const string Mtu = "mtu";
    public const string Suppressed = "suppressed";
    public const string Reason = "reason";
}

/// <summary>Values of <c>reason</c> on <c>UDP-DENIED</c>.</summary>
public static class DeniedReasons
{
    public const string Policy = "policy";
    public const string Fragmented = "fragmented";
    public const string TooLarge = "too-large";
    public const string RateLimit = "rate-limit";
}

/// <summary>Values of <c>reason</c> on <c>UDP-UNRESOLVED</c>.</summary>
public static class UnresolvedReasons
{
    public const string NoSuchName = "no-such-name";
    public const string NoAddress = "no-address";
    public const string Timeout = "timeout";
    public const string Failure = "failure";
}

/// <summary>Values of <c>reason</c> on <c>CLOSING</c>.</summary>
public static class ClosingReasons
{
    public const string IdleTimeout = "idle-timeout";
    public const string Shutdown = "shutdown";
    public const string Limit = "limit";
}
