using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static Socks5UdpRelay.Server.Tests.Topology.RelayNoticeProbe;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// Router1 has no route to the destination: net unreachable (3/0, ICMPv6 1/0) from router1, told to
/// the client. In a topology and server of their own, because Linux sends this IPv4 3/0 only when
/// router1 has sent the relay no other ICMP error within the last second
/// (see <see cref="TopologyNoRouteTests"/>); nothing else here makes router1 send one.
/// </summary>
public sealed class RelayNoRouteTopologyTests(RelayTopologyFixture fixture, ITestOutputHelper output) : IClassFixture<RelayTopologyFixture>
{
    [RootTheory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public async Task SubnetRouter1HasNoRouteFor_NoticesNetUnreachableFromRouter1(AddressFamily family)
    {
        var topology = fixture.Topology;
        var row = $"router1 has no route, {Name(family)}";
        var unrouted = topology.Unrouted.For(family);
        var port = fixture.NextPort();
        await using var association = await fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(unrouted, port), row);

        Report(output, row, elapsed, notice);
        AssertUdpError(
            UdpError(Endpoint(unrouted, port), "net-unreachable", "ENETUNREACH", family, family == AddressFamily.InterNetwork ? "3/0" : "1/0",
                topology.Router1.For(family)),
            notice);
        await AssertEchoAsync(association, topology.Target.For(family), row);
    }
}
