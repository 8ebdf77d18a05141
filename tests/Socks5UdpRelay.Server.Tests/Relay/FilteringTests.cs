using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Tests.Fakes;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>
/// A mapping's filtering on the fake engine (README, "NAT behaviour"; RFC 4787 REQ-8): what
/// comes in through the outbound port from sources without a destination socket of their own.
/// </summary>
public sealed class FilteringTests
{
    private static readonly IPEndPoint Target = new(IPAddress.Parse("198.51.100.7"), 7);

    [Theory]
    [InlineData("address-dependent", "198.51.100.7:9999", true)]
    [InlineData("address-dependent", "198.51.100.8:7", false)]
    [InlineData("endpoint-independent", "198.51.100.7:9999", true)]
    [InlineData("endpoint-independent", "203.0.113.77:5000", true)]
    public async Task UnsolicitedDatagram_IsAdmittedPerTheMode_WithItsRealSource(string mode, string from, bool admitted)
    {
        Assert.True(FilteringModes.TryParse(mode, out var filtering));
        await using var h = Started(filtering);
        var inbound = Assert.Single(h.Loop.Inbound);
        Assert.Equal(h.Loop.Opened[0].LocalPort, inbound.LocalPort); // the mapping's outbound port
        inbound.Deliver(IPEndPoint.Parse(from), "hello"u8.ToArray());

        if (admitted)
        {
            var (_, datagram) = Assert.Single(h.Client.Replies);
            Assert.True(UdpRequestHeader.TryParse(datagram, out ushort rsv, out _, out var source, out int headerLength));
            Assert.Equal(from, $"{source.ToIPAddress()}:{source.Port}");
            Assert.Equal(0, rsv);
            Assert.Equal("hello"u8.ToArray(), datagram[headerLength..]);
            Assert.Equal(1, h.Counters.InboundRelayed);
        }
        else
        {
            Assert.Empty(h.Client.Replies);
            Assert.Equal(1, h.Counters.Dropped(DropReason.InboundFiltered));
        }
    }

    [Fact]
    public async Task AddressAndPortDependent_OpensNoInboundSocket_OnlyDestinationsReply()
    {
        await using var h = Started(FilteringMode.AddressAndPortDependent);
        Assert.Empty(h.Loop.Inbound);
        h.Loop.Opened[0].Reply("reply"u8.ToArray());
        Assert.Single(h.Client.Replies);
    }

    [Fact]
    public async Task SourceThePolicyRefuses_IsDropped_InEveryMode()
    {
        await using var h = Started(FilteringMode.EndpointIndependent);
        h.Loop.Inbound[0].Deliver(new IPEndPoint(IPAddress.Parse("169.254.169.254"), 80), "metadata?"u8.ToArray());
        Assert.Empty(h.Client.Replies);
        Assert.Equal(1, h.Counters.Dropped(DropReason.InboundDenied));
    }

    [Fact]
    public async Task StrangersPastTheBudget_AreDroppedAndCounted_TheClientsOwnRepliesAreNot()
    {
        await using var h = Started(FilteringMode.EndpointIndependent, inboundRate: 1, inboundBurst: 2);
        var stranger = new IPEndPoint(IPAddress.Parse("203.0.113.9"), 4000);
        h.Loop.Inbound[0].Deliver(stranger, "1"u8.ToArray(), "2"u8.ToArray(), "3"u8.ToArray(), "4"u8.ToArray());
        Assert.Equal(2, h.Client.Replies.Count);
        Assert.Equal(2, h.Counters.Dropped(DropReason.InboundRateLimited));

        h.Loop.Opened[0].Reply("own"u8.ToArray(), "replies"u8.ToArray(), "pass"u8.ToArray());
        Assert.Equal(5, h.Client.Replies.Count); // the budget is the strangers' alone
    }

    [Theory]
    [InlineData("endpoint-independent", "inbound-rate-limit")]
    [InlineData("address-dependent", "inbound-filtered")]
    public async Task StrangersDroppedInABatchWithAdmittedOnes_AreCountedOnce_NotAgainAsUnsent(string mode, string reasonName)
    {
        // One read holds both: admitted datagrams (from the target's address) and dropped ones
        // (past the budget, or from an address never sent to). Only the admitted go to the client,
        // and each dropped one is counted under its own reason alone.
        Assert.True(FilteringModes.TryParse(mode, out var filtering));
        await using var h = Started(filtering, inboundRate: 1, inboundBurst: 2);
        var known = new IPEndPoint(Target.Address, 9999);
        var stranger = new IPEndPoint(IPAddress.Parse("203.0.113.9"), 4000);
        h.Loop.Inbound[0].Deliver([(known, "1"u8.ToArray()), (stranger, "2"u8.ToArray()), (known, "3"u8.ToArray()), (stranger, "4"u8.ToArray())]);
        Assert.Equal(2, h.Client.Replies.Count);
        var reason = Enum.GetValues<DropReason>().Single(r => r.WireName() == reasonName);
        Assert.Equal(2, h.Counters.Dropped(reason));
        Assert.Equal(0, h.Counters.Dropped(DropReason.SendFailed));
        Assert.Equal(2, h.Counters.DatagramsToClient);
    }

    [Fact]
    public async Task AddressesNotSentToLately_AreFilteredAgain()
    {
        await using var h = Started(FilteringMode.AddressDependent, destinationIdle: TimeSpan.FromMinutes(2));
        h.Time.Advance(TimeSpan.FromMinutes(3));
        h.Loop.RunPending(); // the sweep: the destination idle, its address forgotten
        h.Loop.Inbound[0].Deliver(new IPEndPoint(Target.Address, 9999), "late"u8.ToArray());
        Assert.Empty(h.Client.Replies);
        Assert.Equal(1, h.Counters.Dropped(DropReason.InboundFiltered));
    }

    [Fact]
    public async Task InboundOfAMapping_NamesItsMappingInRsv()
    {
        await using var h = new AssociationHarness(AssociationHarness.Settings(filtering: FilteringMode.EndpointIndependent));
        h.Start();
        var map = h.Association.Commands.Map();
        Assert.True(map.Done);
        h.Client.Deliver(AssociationHarness.ClientUdp, WithRsv(AssociationHarness.Datagram(Target, "via 1"u8), map.Mapping));
        var inbound = Assert.Single(h.Loop.Inbound);
        Assert.Equal(map.Port, inbound.LocalPort);
        inbound.Deliver(new IPEndPoint(IPAddress.Parse("203.0.113.5"), 1234), "in"u8.ToArray());
        Assert.True(UdpRequestHeader.TryParse(Assert.Single(h.Client.Replies).Datagram, out ushort rsv, out _, out _, out _));
        Assert.Equal(map.Mapping, rsv);
    }

    [Fact]
    public async Task HostAddressAtAnOutboundPortOfThisServer_IsHairpinned_OtherHostPortsAreNot()
    {
        var host = new LocalAddresses(() => [(IPAddress.Parse("203.0.113.1"), IPAddress.Parse("255.255.255.0"))]); // the harness's host address too
        await using var harness = new AssociationHarness(policy: new DestinationPolicy(allowLoopback: false, allowLinkLocal: false, hostAddresses: host));
        harness.Start();
        var other = harness.Ports.Allocate(); // another mapping's outbound port, held in this process
        harness.Client.Deliver(AssociationHarness.ClientUdp,
            AssociationHarness.Datagram(new IPEndPoint(IPAddress.Parse("203.0.113.1"), other), "hairpin"u8),
            AssociationHarness.Datagram(new IPEndPoint(IPAddress.Parse("203.0.113.1"), 22), "ssh?"u8));

        var opened = Assert.Single(harness.Loop.Opened);
        Assert.Equal(other, opened.Key.Port);
        Assert.Equal(1, harness.Counters.Dropped(DropReason.Policy));
    }

    private static AssociationHarness Started(FilteringMode mode, int inboundRate = 0, int inboundBurst = 1000, TimeSpan? destinationIdle = null)
    {
        var h = new AssociationHarness(AssociationHarness.Settings(filtering: mode, inboundRate: inboundRate, inboundBurst: inboundBurst, destinationIdle: destinationIdle));
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "out"u8));
        return h;
    }

    private static byte[] WithRsv(byte[] datagram, ushort rsv)
    {
        UdpRequestHeader.WriteMapping(datagram, rsv);
        return datagram;
    }
}
