using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// Net unreachable from a router without a route, in a topology of its own. Linux sends that
/// 3/0 from <c>ip_error</c>, which rate-limits per source host through a token bucket
/// (net.ipv4.route.error_cost, 1 s; not settable inside a namespace) that it shares with every
/// other ICMP error the router sends to that host; <c>icmp_ratelimit=0</c> empties the bucket on
/// each such error. So right after any other error from router1 to the relay, the 3/0 is not
/// sent at all: these tests must not share router1 with the other ICMP tests.
/// </summary>
public sealed class TopologyNoRouteTests(TopologyFixture fixture, ITestOutputHelper output) : IClassFixture<TopologyFixture>
{
    [RootTheory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public async Task SubnetRouterHasNoRouteFor_ReportsNetUnreachable(AddressFamily family)
    {
        var topology = fixture.Topology;
        await using var sniffer = IcmpSniffer.Start(topology, topology.RelayNamespace, family);
        using var socket = UdpFaults.ConnectedUdp(topology, family, topology.Unrouted.For(family), fixture.NextPort(), recvErr: true);

        var (error, elapsed, flow) = await UdpFaults.SendAndAwaitFaultAsync(socket);
        var icmp = await sniffer.WaitForAsync(flow.Local, flow.Remote);

        output.WriteLine($"no route at router1 (RECVERR): {icmp} -> {error.SocketErrorCode} after {elapsed.TotalMilliseconds:F2} ms");
        Assert.Equal(SocketError.NetworkUnreachable, error.SocketErrorCode);
        Assert.Equal(family == AddressFamily.InterNetwork ? "3/0" : "1/0", icmp.TypeCode);
        Assert.Equal(topology.Router1.For(family), icmp.From);
    }
}
