using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Trace;

/// <summary><see cref="TraceTopologyFixture"/> with the kernel's own ICMP rate limits in the routers and the target.</summary>
public sealed class TraceDefaultLimitsFixture : TraceTopologyFixture
{
    protected override NetnsTopologyOptions Options => new() { KeepDefaultIcmpRateLimits = true };
}
