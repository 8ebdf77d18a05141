namespace Socks5UdpRelay.Server.Udp;

/// <summary>What notices are rate-limited by: a destination (resolved, or a name) and a kind.</summary>
internal readonly record struct NoticeKey(DestinationKey Destination, string? Name, int Kind)
{
    /// <summary>Kinds above the UDP-ERROR kinds, for refusals and unresolved names.</summary>
    public const int DeniedBase = 100;
    public const int UnresolvedBase = 200;
}
