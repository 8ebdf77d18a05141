using System.Net;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Tests.Fakes;
using Socks5UdpRelay.Server.Transport;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>
/// How an association hands its client's datagrams to the engine so runs can leave segmented:
/// queued per destination while it reads a batch, each destination flushed once at the batch's end
/// in the order its datagrams came; a datagram that waited for its name goes at once; replies of a
/// coalesced read each go back behind the destination's header.
/// </summary>
public sealed class BatchedSendTests
{
    private static readonly IPEndPoint A = new(IPAddress.Parse("198.51.100.7"), 555);
    private static readonly IPEndPoint B = new(IPAddress.Parse("198.51.100.8"), 556);

    [Fact]
    public async Task InterleavedDestinations_EachFlushedOnceAtTheBatchEnd_InTheirOwnOrder()
    {
        await using var h = new AssociationHarness();
        h.Start();
        h.Client.Deliver(
            AssociationHarness.ClientUdp,
            AssociationHarness.Datagram(A, "a1"u8), AssociationHarness.Datagram(B, "b1"u8), AssociationHarness.Datagram(A, "a2"u8),
            AssociationHarness.Datagram(B, "b2"u8), AssociationHarness.Datagram(A, "a3"u8));

        var (a, b) = (h.Loop.Opened[0], h.Loop.Opened[1]);
        Assert.Equal((A.Port, B.Port), (a.Key.Port, b.Key.Port));
        Assert.Equal(["a1", "a2", "a3"], a.Sent.Select(p => System.Text.Encoding.ASCII.GetString(p)));
        Assert.Equal(["b1", "b2"], b.Sent.Select(p => System.Text.Encoding.ASCII.GetString(p)));
        Assert.Equal([3], a.Flushed);
        Assert.Equal([2], b.Flushed);
        Assert.Equal(5, h.Counters.DatagramsFromClient);
        var snapshot = h.Association.Snapshot().Mappings[0].Destinations;
        Assert.Equal([3L, 2L], snapshot.Select(d => d.DatagramsSent));
    }

    [Fact]
    public async Task FlushOutcome_CountsRetriesAndDrops_AsSingleSendsDid()
    {
        await using var h = new AssociationHarness();
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(A, "open"u8));
        var a = h.Loop.Opened[0];
        a.NextSends.Enqueue((SendResult.ErrorReported, []));
        a.NextSends.Enqueue((SendResult.Sent, [])); // the retry is a send like any
        a.NextSends.Enqueue((SendResult.BufferFull, []));
        a.Sent.Clear();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(A, "1"u8), AssociationHarness.Datagram(A, "2"u8), AssociationHarness.Datagram(A, "3"u8));

        Assert.Equal(["3"], a.Sent.Select(p => System.Text.Encoding.ASCII.GetString(p)));
        Assert.Equal(1, h.Counters.SendsRetried);
        Assert.Equal(1, h.Counters.Dropped(DropReason.BufferFull));
    }

    [Fact]
    public async Task DatagramThatWaitedForItsName_GoesAtOnce()
    {
        await using var h = new AssociationHarness();
        h.Resolver.Map("svc.test", A.Address);
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("svc.test", A.Port, "q"u8));
        await h.Loop.WaitForPostAsync(TestTimeout.Token);
        h.Loop.RunPending();

        var a = Assert.Single(h.Loop.Opened);
        Assert.Equal("q"u8.ToArray(), Assert.Single(a.Sent));
        Assert.Empty(a.Flushed);
    }

    [Fact]
    public async Task CoalescedReplies_EachGoBackBehindTheDestinationsHeader()
    {
        await using var h = new AssociationHarness();
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(A, "hi"u8));
        byte[] burst = [.. Enumerable.Range(0, 7).SelectMany(i => Enumerable.Repeat((byte)i, i == 6 ? 3 : 100))];
        h.Loop.Opened[0].ReplyCoalesced(burst, 100);

        byte[] header = new byte[UdpRequestHeader.IPv4Length];
        UdpRequestHeader.Write(header, A.Address, (ushort)A.Port);
        Assert.Equal(7, h.Client.Replies.Count);
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal([.. header, .. Enumerable.Repeat((byte)i, i == 6 ? 3 : 100)], h.Client.Replies[i].Datagram);
        }

        Assert.Equal((7L, 603L), (h.Counters.DatagramsToClient, h.Counters.BytesToClient));
    }
}
