using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>Why a name gave no usable address: the <c>reason</c> of <c>UDP-UNRESOLVED</c>.</summary>
internal enum ResolveFailure
{
    None = 0,
    NoSuchName,
    NoAddress,
    Timeout,
    Failure,

    /// <summary>Too many lookups in flight (server-wide or for the association), or too many bytes waiting for names: try again.</summary>
    Busy,
}

internal static class ResolveFailures
{
    public static string WireName(this ResolveFailure failure) => failure switch
    {
        ResolveFailure.NoSuchName => UnresolvedReasons.NoSuchName,
        ResolveFailure.NoAddress => UnresolvedReasons.NoAddress,
        ResolveFailure.Timeout => UnresolvedReasons.Timeout,
        ResolveFailure.Busy => UnresolvedReasons.Busy,
        _ => UnresolvedReasons.Failure,
    };
}
