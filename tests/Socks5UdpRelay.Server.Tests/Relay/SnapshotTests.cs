using System.Net;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Tests.Fakes;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>What the flow view reads of an association: its traffic, mappings, destinations and each one's last error.</summary>
public sealed class SnapshotTests
{
    [Fact]
    public async Task Snapshot_HoldsTrafficMappingsDestinationsAndTheLastError()
    {
        await using var h = new AssociationHarness();
        h.Resolver.Map("svc.test", IPAddress.Parse("198.51.100.8"));
        h.Start();
        var target = new IPEndPoint(IPAddress.Parse("198.51.100.7"), 555);
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(target, "abc"u8));
        h.Loop.Opened[0].Reply("reply"u8.ToArray());
        h.Time.Advance(TimeSpan.FromSeconds(2));
        h.Loop.Opened[0].Fail(new ErrorReport(UdpErrorKind.PortUnreachable, Errno.ECONNREFUSED, ErrorOrigin.Icmp, 3, 3, target.Address, 0, target, 62));
        var set = h.Association.Commands.Set(0, Addressing.DestinationKey.From(target.Address, target.Port), null, default, 9);
        Assert.True(set.Done);
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("svc.test", 53, "q"u8));
        await h.Loop.WaitForPostAsync(TestTimeout.Token);
        h.Loop.RunPending();

        var snapshot = h.Association.Snapshot();
        Assert.Equal((2L, 4L, 1L, 5L), (snapshot.DatagramsFromClient, snapshot.BytesFromClient, snapshot.DatagramsToClient, snapshot.BytesToClient));
        Assert.Equal(AssociationHarness.Peer, snapshot.ControlPeer);
        Assert.Equal(AssociationHarness.ClientUdp, snapshot.ClientUdp);
        Assert.Equal("address-dependent", snapshot.Filtering);
        var mapping = Assert.Single(snapshot.Mappings);
        Assert.Equal(0, mapping.Number);
        Assert.Equal(2, mapping.Destinations.Count);
        var first = mapping.Destinations.Single(d => d.Address == "198.51.100.7:555");
        Assert.Equal("198.51.100.7:555", first.Destination);
        Assert.Equal(9, first.Ttl);
        Assert.Equal((1L, 3L, 1L, 5L), (first.DatagramsSent, first.BytesSent, first.DatagramsReceived, first.BytesReceived));
        Assert.Equal(new ErrorSnapshot("port-unreachable", "ECONNREFUSED", "icmp 3/3", "198.51.100.7", null, 62, TimeSpan.Zero, 1), first.LastError);
        var named = mapping.Destinations.Single(d => d.Address == "198.51.100.8:53");
        Assert.Equal("svc.test:53", named.Destination);
        Assert.Null(named.LastError);
    }
}
