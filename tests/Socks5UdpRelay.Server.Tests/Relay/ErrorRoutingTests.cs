using System.Net;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Transport;
using Socks5UdpRelay.Server.Tests.Fakes;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>What becomes of the kernel's errors and refused sends: notices, retries, drops (README, "Notices").</summary>
public sealed class ErrorRoutingTests
{
    private static readonly IPEndPoint Target = new(IPAddress.Parse("198.51.100.7"), 555);
    private static readonly ErrorReport PortUnreachable = new(
        UdpErrorKind.PortUnreachable, Errno.ECONNREFUSED, ErrorOrigin.Icmp, 3, 3, Target.Address, 0, Target);

    [Fact]
    public async Task KernelError_BecomesOneUdpErrorLine_WithEveryDetail()
    {
        await using var h = StartedWithOneDestination();
        var frag = new ErrorReport(UdpErrorKind.FragmentationNeeded, Errno.EMSGSIZE, ErrorOrigin.Icmp, 3, 4, IPAddress.Parse("10.0.0.1"), 1280, Target);
        h.Loop.Opened[0].Fail(PortUnreachable, frag);

        Assert.Equal(
            [
                "UDP-ERROR dst=198.51.100.7:555 error=port-unreachable errno=ECONNREFUSED icmp=3/3 from=198.51.100.7",
                "UDP-ERROR dst=198.51.100.7:555 error=fragmentation-needed errno=EMSGSIZE icmp=3/4 from=10.0.0.1 mtu=1280",
            ],
            h.Notices.Lines);
        Assert.Equal(2, h.Counters.Errors);
    }

    [Fact]
    public async Task ErrorForANameTheClientUsed_NamesItAndTheAddress()
    {
        await using var h = new AssociationHarness();
        h.Resolver.Map("svc.test", Target.Address);
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("svc.test", Target.Port, "q"u8));
        await h.Loop.WaitForPostAsync(TestTimeout.Token);
        h.Loop.RunPending();
        h.Loop.Opened[0].Fail(PortUnreachable);
        Assert.StartsWith("UDP-ERROR dst=svc.test:555 addr=198.51.100.7:555 error=port-unreachable", Assert.Single(h.Notices.Lines));
    }

    [Fact]
    public async Task ErrorForADestinationNotSentToLately_IsNotBelieved()
    {
        await using var h = StartedWithOneDestination();
        h.Time.Advance(TimeSpan.FromSeconds(31));
        h.Loop.Opened[0].Fail(PortUnreachable);
        Assert.Empty(h.Notices.Lines);
        Assert.Equal(1, h.Counters.StaleErrors);
        Assert.Equal(0, h.Counters.Errors);
    }

    [Fact]
    public async Task RepeatedErrors_AreRateLimited_TheRestCountedInSuppressed()
    {
        await using var h = StartedWithOneDestination(notices: 1);
        for (int i = 0; i < 4; i++)
        {
            h.Loop.Opened[0].Fail(PortUnreachable);
        }

        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "again"u8));
        h.Loop.Opened[0].Fail(PortUnreachable);
        Assert.Equal(2, h.Notices.Lines.Count);
        Assert.EndsWith(" suppressed=3", h.Notices.Lines[1]);
        Assert.Equal(5, h.Counters.Errors);
    }

    [Fact]
    public async Task SendThatSurfacedAnEarlierError_IsReportedThenSentAgain_SoNothingIsLost()
    {
        await using var h = StartedWithOneDestination();
        var socket = h.Loop.Opened[0];
        socket.NextSends.Enqueue((SendResult.ErrorReported, [PortUnreachable]));
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "second"u8));

        Assert.Equal(["first"u8.ToArray(), "second"u8.ToArray()], socket.Sent);
        Assert.Equal(1, h.Counters.SendsRetried);
        Assert.StartsWith("UDP-ERROR dst=198.51.100.7:555 error=port-unreachable", Assert.Single(h.Notices.Lines));
    }

    [Fact]
    public async Task SendThatFailsTwice_IsDroppedAndCounted_AfterOneRetry()
    {
        await using var h = StartedWithOneDestination();
        var socket = h.Loop.Opened[0];
        socket.NextSends.Enqueue((SendResult.ErrorReported, [PortUnreachable]));
        socket.NextSends.Enqueue((SendResult.ErrorReported, [PortUnreachable]));
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "lost"u8));

        Assert.Equal(["first"u8.ToArray()], socket.Sent);
        Assert.Equal(1, h.Counters.SendsRetried);
        Assert.Equal(1, h.Counters.Dropped(DropReason.SendFailed));
    }

    [Fact]
    public async Task FullSendBuffer_DropsTheDatagramAtOnce_NoRetryNoWait()
    {
        await using var h = StartedWithOneDestination();
        var socket = h.Loop.Opened[0];
        socket.NextSends.Enqueue((SendResult.BufferFull, []));
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "dropped"u8), AssociationHarness.Datagram(Target, "next"u8));

        Assert.Equal(["first"u8.ToArray(), "next"u8.ToArray()], socket.Sent);
        Assert.Equal(1, h.Counters.Dropped(DropReason.BufferFull));
        Assert.Equal(0, h.Counters.SendsRetried);
        Assert.Empty(h.Notices.Lines);
    }

    [Fact]
    public async Task DestinationThatCannotBeOpened_IsNoticedWithTheKernelsReason()
    {
        await using var h = new AssociationHarness();
        h.Start();
        h.Loop.RefuseNextOpen(Addressing.DestinationKey.From(Target.Address, Target.Port), Errno.ENETUNREACH);
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "x"u8));
        Assert.Equal(["UDP-ERROR dst=198.51.100.7:555 error=net-unreachable errno=ENETUNREACH"], h.Notices.Lines);
        Assert.Equal(1, h.Counters.Dropped(DropReason.SendFailed));
    }

    private static AssociationHarness StartedWithOneDestination(int notices = 5)
    {
        var h = new AssociationHarness(notices: notices);
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(Target, "first"u8));
        Assert.Single(h.Loop.Opened);
        return h;
    }
}
