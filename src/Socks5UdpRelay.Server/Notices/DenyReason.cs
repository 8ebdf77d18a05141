using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>Why the relay refused a datagram: the <c>reason</c> of <c>UDP-DENIED</c>.</summary>
internal enum DenyReason
{
    Policy,
    Fragmented,
    TooLarge,
    RateLimit,
}

internal static class DenyReasons
{
    public static string WireName(this DenyReason reason) => reason switch
    {
        DenyReason.Policy => DeniedReasons.Policy,
        DenyReason.Fragmented => DeniedReasons.Fragmented,
        DenyReason.TooLarge => DeniedReasons.TooLarge,
        _ => DeniedReasons.RateLimit,
    };
}
