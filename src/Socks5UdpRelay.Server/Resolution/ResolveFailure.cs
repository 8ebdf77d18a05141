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
}

internal static class ResolveFailures
{
    public static string WireName(this ResolveFailure failure) => failure switch
    {
        ResolveFailure.NoSuchName => UnresolvedReasons.NoSuchName,
        ResolveFailure.NoAddress => UnresolvedReasons.NoAddress,
        ResolveFailure.Timeout => UnresolvedReasons.Timeout,
        _ => UnresolvedReasons.Failure,
    };
}
