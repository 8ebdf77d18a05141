using System.Net;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Tests.Fakes;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>One association on the fake engine and a manual clock: the datagram each way, refusals, names, idleness, the one shutdown path.</summary>
public sealed class AssociationLifecycleTests
{
    private static readonly IPEndPoint Target = new(IPAddress.Parse("198.51.100.7"), 7);

    [Fact]
    public async Task ClientDatagram_LeavesOnItsDestinationsSocket_AndTheReplyComesBackBehindAHeader()
    {
        await using var h = new AssociationHarness();
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "ping"u8));

        var socket = Assert.Single(h.Loop.Opened);
        Assert.Equal(Target.Port, socket.Key.Port);
        Assert.Equal(["ping"u8.ToArray()], socket.Sent);

        socket.Reply("pong"u8.ToArray(), "pong2"u8.ToArray());
        Assert.Equal(2, h.Client.Replies.Count);
        var (client, datagram) = h.Client.Replies[0];
        Assert.True(Addressing.RawSocketAddress.TryRead(client, out var address, out int port));
        Assert.Equal(AssociationHarness.ClientUdp, new IPEndPoint(address, port));
        Assert.True(UdpRequestHeader.TryParse(datagram, out byte frag, out var source, out int headerLength));
        Assert.Equal(0, frag);
        Assert.Equal(Target.Address, source.ToIPAddress());
        Assert.Equal(Target.Port, source.Port);
        Assert.Equal("pong"u8.ToArray(), datagram[headerLength..]);
        Assert.Equal((1L, 4L, 2L, 9L), (h.Counters.DatagramsFromClient, h.Counters.BytesFromClient, h.Counters.DatagramsToClient, h.Counters.BytesToClient));
    }

    [Fact]
    public async Task ReplyOverTheLimit_IsDroppedAlone_AndAFullClientBufferLosesOnlyWhatDidNotFit()
    {
        await using var h = new AssociationHarness(AssociationHarness.Settings(maxDatagramSize: 10));
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "x"u8));
        var socket = h.Loop.Opened[0];

        socket.Reply("short"u8.ToArray(), new byte[11], "fits"u8.ToArray());
        Assert.Equal(2, h.Client.Replies.Count);
        Assert.Equal(1, h.Counters.Dropped(DropReason.ReplyTooLarge));

        h.Client.Room = 1;
        socket.Reply("a"u8.ToArray(), "b"u8.ToArray(), "c"u8.ToArray());
        Assert.Equal(3, h.Client.Replies.Count);
        Assert.Equal(2, h.Counters.Dropped(DropReason.SendFailed));
    }

    [Fact]
    public async Task StrangersDatagram_IsDroppedAndCounted_NeverForwarded()
    {
        await using var h = new AssociationHarness();
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "mine"u8));
        h.Client.Deliver(new IPEndPoint(AssociationHarness.ClientUdp.Address, 9999), AssociationHarness.Datagram(Target, "theirs"u8));
        h.Client.Deliver(new IPEndPoint(IPAddress.Parse("203.0.113.5"), 40001), AssociationHarness.Datagram(Target, "theirs"u8));

        Assert.Equal(["mine"u8.ToArray()], Assert.Single(h.Loop.Opened).Sent);
        Assert.Equal(2, h.Counters.Dropped(DropReason.ForeignSource));
    }

    [Fact]
    public async Task DeniedDestination_OpensNoSocket_AndEachRefusalIsNoticed()
    {
        await using var h = new AssociationHarness(policy: new DestinationPolicy(allowLoopback: false, allowLinkLocal: false));
        h.Start();
        var loopback = new IPEndPoint(IPAddress.Loopback, 53);
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(loopback, "x"u8), AssociationHarness.Datagram(loopback, "y"u8));

        Assert.Empty(h.Loop.Opened);
        Assert.Equal(2, h.Counters.Dropped(DropReason.Policy));
        Assert.Equal(["UDP-DENIED dst=127.0.0.1:53 reason=policy", "UDP-DENIED dst=127.0.0.1:53 reason=policy"], h.Notices.Lines);
    }

    [Fact]
    public async Task Fragment_TooLarge_AndOverBudget_AreRefusedWithTheirReason()
    {
        await using var h = new AssociationHarness(AssociationHarness.Settings(maxDatagramSize: 10, rate: 1, burst: 2));
        h.Start();
        byte[] fragment = AssociationHarness.Datagram(Target, "f"u8);
        fragment[2] = 1;
        h.Client.Deliver(AssociationHarness.ClientUdp, fragment, AssociationHarness.Datagram(Target, new byte[11]), AssociationHarness.Datagram(Target, "x"u8));

        Assert.Equal(1, h.Counters.Dropped(DropReason.Fragmented));
        Assert.Equal(1, h.Counters.Dropped(DropReason.RateLimit)); // the budget of two went to the first two, refused or not
        Assert.Equal(1, h.Counters.Dropped(DropReason.TooLarge));
        Assert.Equal(
            ["UDP-DENIED dst=198.51.100.7:7 reason=fragmented", "UDP-DENIED dst=198.51.100.7:7 reason=too-large", "UDP-DENIED dst=198.51.100.7:7 reason=rate-limit"],
            h.Notices.Lines);
    }

    [Fact]
    public async Task Name_WaitsForItsLookup_ThenGoesToTheAddress_AndTheReplyNamesTheAddress()
    {
        await using var h = new AssociationHarness();
        h.Resolver.Map("echo.test", Target.Address);
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("echo.test", 7, "one"u8), AssociationHarness.Datagram("ECHO.test", 7, "two"u8));
        Assert.Empty(h.Loop.Opened); // both wait for the lookup

        await h.Loop.WaitForPostAsync(TestTimeout.Token); // the lookup's answer comes back to the loop
        h.Loop.RunPending();
        var socket = Assert.Single(h.Loop.Opened);
        Assert.Equal(Target.Address, socket.Key.ToIPAddress());
        Assert.Equal(["one"u8.ToArray(), "two"u8.ToArray()], socket.Sent);
        Assert.Equal(1, h.Resolver.Lookups);

        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("echo.test", 7, "three"u8));
        Assert.Equal(3, socket.Sent.Count); // resolved: no wait any more
    }

    [Fact]
    public async Task UnknownName_DropsWhatWaited_AndSaysWhy()
    {
        await using var h = new AssociationHarness();
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("nowhere.test", 53, "q"u8));
        await h.Loop.WaitForPostAsync(TestTimeout.Token);
        h.Loop.RunPending();

        Assert.Empty(h.Loop.Opened);
        Assert.Equal(["UDP-UNRESOLVED dst=nowhere.test:53 reason=no-such-name"], h.Notices.Lines);
        Assert.Equal(1, h.Counters.Dropped(DropReason.Unresolved));

        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("nowhere.test", 53, "again"u8));
        Assert.Equal(2, h.Counters.Dropped(DropReason.Unresolved)); // the failure is remembered: no second lookup
        Assert.Equal(1, h.Resolver.Lookups);
    }

    [Fact]
    public async Task IdleAssociation_EndsWithIdleTimeout_OnTheLoop()
    {
        await using var h = new AssociationHarness(AssociationHarness.Settings(associationIdle: TimeSpan.FromMinutes(1)));
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "x"u8));
        h.Time.Advance(TimeSpan.FromSeconds(59));
        h.Loop.RunPending();
        Assert.Equal(AssociationEnd.None, h.Association.EndReason);

        h.Time.Advance(TimeSpan.FromSeconds(16)); // the next sweep after the minute
        h.Loop.RunPending();
        Assert.Equal(AssociationEnd.IdleTimeout, h.Association.EndReason);
        await h.EndAsync(AssociationEnd.IdleTimeout);
        h.Association.AnnounceClosing();
        Assert.Equal("CLOSING reason=idle-timeout", h.Notices.Lines[^1]);
    }

    [Fact]
    public async Task End_ClosesEverySocketOnTheLoop_GivesThePortBack_AndStopsRelaying()
    {
        await using var h = new AssociationHarness();
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "x"u8), AssociationHarness.Datagram(new IPEndPoint(Target.Address, 8), "y"u8));
        int port = h.Loop.Opened[0].LocalPort;
        Assert.True(h.Ports.IsHeld(port));

        await h.EndAsync(AssociationEnd.ClientClosed);
        Assert.True(h.Client.Disposed);
        Assert.All(h.Loop.Opened, s => Assert.True(s.Disposed));
        Assert.False(h.Ports.IsHeld(port));
        Assert.Equal(AssociationEnd.ClientClosed, h.Association.EndReason);

        h.Association.End(AssociationEnd.Shutdown); // the first reason stays
        Assert.Equal(AssociationEnd.ClientClosed, h.Association.EndReason);
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "late"u8));
        Assert.Equal(["x"u8.ToArray()], h.Loop.Opened[0].Sent);
        h.Association.AnnounceClosing();
        Assert.DoesNotContain(h.Notices.Lines, l => l.StartsWith("CLOSING", StringComparison.Ordinal)); // the client closed: nobody to tell
    }
}
