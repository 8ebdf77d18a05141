namespace Socks5UdpRelay.Tests.Shared.Topology;

/// <summary>Choices made when a <see cref="NetnsTopology"/> is built.</summary>
public sealed record NetnsTopologyOptions
{
    /// <summary>
    /// False (default): <c>net.ipv4.icmp_ratelimit=0</c> and <c>net.ipv6.icmp.ratelimit=0</c> in the
    /// routers and the target, so every error test gets its ICMP. True keeps the kernel's limits
    /// (IPv4 about 6 in a burst then 1/s per destination), for tests of a probe that paces and retries.
    /// Either way the routers' "no route" errors (3/0) stay limited by the kernel's
    /// <c>net.ipv4.route.error_cost</c>/<c>error_burst</c>, which this does not touch.
    /// </summary>
    public bool KeepDefaultIcmpRateLimits { get; init; }
}
