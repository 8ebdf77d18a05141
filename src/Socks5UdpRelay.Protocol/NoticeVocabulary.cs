namespace Socks5UdpRelay.Protocol;

/// <summary>The verbs of notice lines (the README, "Notices").</summary>
public static class NoticeVerbs
{
    public const string Notices = "NOTICES";
    public const string UdpError = "UDP-ERROR";
    public const string UdpDenied = "UDP-DENIED";
    public const string UdpUnresolved = "UDP-UNRESOLVED";
    public const string Closing = "CLOSING";

    /// <summary>A destination socket the client holds a setting on was closed; its settings are gone.</summary>
    public const string DestinationClosed = "DST-CLOSED";

    /// <summary>A mapping (MAP) was closed by the server, idle: its outbound port and sockets are gone.</summary>
    public const string MapClosed = "MAP-CLOSED";
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

    /// <summary>The TTL / hop limit an ICMP error arrived with at the relay.</summary>
    public const string ReceivedTtl = "rttl";

    /// <summary>The mapping a notice, command or answer is about (absent means 0).</summary>
    public const string Mapping = "map";

    /// <summary>On the greeting: the command verbs the server accepts, lower case, comma-separated.</summary>
    public const string Commands = "commands";

    /// <summary>On <c>UDP-DENIED reason=source-mismatch</c>: the control connection's address as the server sees it.</summary>
    public const string Expected = "expected";
}

/// <summary>Values of <c>reason</c> on <c>UDP-DENIED</c>.</summary>
public static class DeniedReasons
{
    public const string Policy = "policy";
    public const string Fragmented = "fragmented";
    public const string TooLarge = "too-large";
    public const string RateLimit = "rate-limit";

    /// <summary>
    /// The datagram came from another address than the association's control connection (RFC 1928
    /// §7): a NAT rewrote the TCP path but not the UDP one. Comes with <c>from</c> (the datagram's
    /// source) and <c>expected</c> (the control connection's address).
    /// </summary>
    public const string SourceMismatch = "source-mismatch";
}

/// <summary>Values of <c>reason</c> on <c>UDP-UNRESOLVED</c>.</summary>
public static class UnresolvedReasons
{
    public const string NoSuchName = "no-such-name";
    public const string NoAddress = "no-address";
    public const string Timeout = "timeout";
    public const string Failure = "failure";

    /// <summary>Too many lookups in flight, or too many bytes waiting for names: try again.</summary>
    public const string Busy = "busy";
}

/// <summary>Values of <c>reason</c> on <c>CLOSING</c>.</summary>
public static class ClosingReasons
{
    public const string IdleTimeout = "idle-timeout";
    public const string Shutdown = "shutdown";
    public const string Limit = "limit";

    /// <summary>An operator ended the association.</summary>
    public const string Admin = "admin";
}

/// <summary>Values of <c>reason</c> on <c>DST-CLOSED</c>.</summary>
public static class DestinationClosedReasons
{
    public const string Idle = "idle";
    public const string Evicted = "evicted";
}
