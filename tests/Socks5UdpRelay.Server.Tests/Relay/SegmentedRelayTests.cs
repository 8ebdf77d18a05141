using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Transport;
using Socks5UdpRelay.Server.Transport.Epoll;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>
/// Bulk datagrams as QUIC stacks send them (one GSO send of many equal-sized datagrams) through
/// the real server on loopback, both ways: the relay reads them coalesced (GRO) and sends them on
/// segmented (GSO), and each still arrives as a datagram of its own, in order, with its bytes
/// and, towards the client, behind its SOCKS header.
/// </summary>
public sealed class SegmentedRelayTests
{
    [Theory]
    [MemberData(nameof(Loopbacks.Families), MemberType = typeof(Loopbacks))]
    public async Task GsoBurstFromTheClient_ReachesTheDestinationAsSeparateDatagrams_InOrder(string loopback)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(ip, 0).ToString());
        using var target = Bound(ip);
        var targetEndPoint = (IPEndPoint)target.LocalEndPoint!;
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);

        const int Count = 40;
        int headerLength = RawSocks.Datagram(targetEndPoint, []).Length;
        byte[] burst = [.. Enumerable.Range(0, Count).SelectMany(i => RawSocks.Datagram(targetEndPoint, Payload(i, i == Count - 1 ? 300 : 1000)))];
        SegmentedUdp.Send(association.Udp, burst, headerLength + 1000, association.Relay);

        byte[] buffer = new byte[2048];
        for (int i = 0; i < Count; i++)
        {
            int n = await target.ReceiveAsync(buffer, SocketFlags.None, TestTimeout.Token);
            Assert.Equal(Payload(i, i == Count - 1 ? 300 : 1000), buffer[..n]);
        }

        var loops = Loops(server);
        await Eventually.TrueAsync(() => loops.Sum(l => l.SegmentedSends) >= 1);
        Assert.True(loops.Sum(l => l.CoalescedReads) >= 1, "the relay read the burst coalesced (GRO)");
        Assert.Equal(0, loops.Sum(l => l.SegmentationRefusals));
    }

    [Theory]
    [MemberData(nameof(Loopbacks.Families), MemberType = typeof(Loopbacks))]
    public async Task RepliesCoalescedByGro_ReachTheClientAsSeparateSocksDatagrams_EachBehindItsHeader(string loopback)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(ip, 0).ToString());
        using var target = Bound(ip);
        var targetEndPoint = (IPEndPoint)target.LocalEndPoint!;
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);

        // One datagram out tells the target where the relay sends from; the burst goes back there.
        await association.SendToAsync(targetEndPoint, "hello"u8.ToArray());
        byte[] buffer = new byte[2048];
        var first = await target.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(ip.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), TestTimeout.Token);
        var relayOut = (IPEndPoint)first.RemoteEndPoint;
        var loops = Loops(server);
        long segmentedBefore = loops.Sum(l => l.SegmentedSends);

        const int Count = 30;
        byte[] burst = [.. Enumerable.Range(0, Count).SelectMany(i => Payload(i, i == Count - 1 ? 200 : 700))];
        SegmentedUdp.Send(target, burst, 700, relayOut);

        string expectedSource = NoticeFormat.FormatEndpoint(targetEndPoint.Address, targetEndPoint.Port);
        for (int i = 0; i < Count; i++)
        {
            var (source, payload) = await association.ReceiveAsync();
            Assert.Equal(expectedSource, source);
            Assert.Equal(Payload(i, i == Count - 1 ? 200 : 700), payload);
        }

        await Eventually.TrueAsync(() => loops.Sum(l => l.SegmentedSends) > segmentedBefore);
        Assert.True(loops.Sum(l => l.CoalescedReads) >= 1, "the relay read the replies coalesced (GRO)");
    }

    [Fact]
    public async Task UdpOverTcp_FramesGoOutInOrder_AndRepliesCoalescedByGro_ComeBackAsFramesInOrder()
    {
        await using var server = await RelayServer.StartAsync();
        using var target = Bound(IPAddress.Loopback);
        var targetEndPoint = (IPEndPoint)target.LocalEndPoint!;
        await using var control = await RawSocks.ConnectAsync(server.EndPoint);
        await control.AssociateAsync([0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0]); // CMD=0x05: datagrams ride this connection

        // Several frames in one write: one batch for the association, queued on the flow and flushed together.
        const int Out = 8;
        byte[] frames = [.. Enumerable.Range(0, Out).SelectMany(i => Frame(targetEndPoint, Payload(i, 400)))];
        await control.SendAsync(frames);
        byte[] buffer = new byte[2048];
        IPEndPoint? relayOut = null;
        for (int i = 0; i < Out; i++)
        {
            var received = await target.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), TestTimeout.Token);
            Assert.Equal(Payload(i, 400), buffer[..received.ReceivedBytes]);
            relayOut = (IPEndPoint)received.RemoteEndPoint;
        }

        // Replies the relay reads coalesced: each frame is written in place over the end of the one before it, already sent.
        const int Count = 30;
        byte[] burst = [.. Enumerable.Range(0, Count).SelectMany(i => Payload(i, i == Count - 1 ? 5 : 700))];
        SegmentedUdp.Send(target, burst, 700, relayOut);
        for (int i = 0; i < Count; i++)
        {
            byte[] head = await control.ReadAsync(3);
            byte[] rest = await control.ReadAsync(head[2] - 3 + ((head[0] << 8) | head[1]));
            Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead([.. head, .. rest], false, 1500, out var frame, out int consumed));
            Assert.Equal(head.Length + rest.Length, consumed);
            Assert.Equal(Payload(i, i == Count - 1 ? 5 : 700), frame.Data.ToArray());
            Assert.Equal(Frame(targetEndPoint, frame.Data), (byte[])[.. head, .. rest]);
        }

        Assert.True(Loops(server).Sum(l => l.CoalescedReads) >= 1, "the relay read the replies coalesced (GRO)");
    }

    [Fact]
    public async Task OffloadOff_RelaysTheSameBurst_OneDatagramAtATime()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Offload"] = "off" });
        using var target = Bound(IPAddress.Loopback);
        var targetEndPoint = (IPEndPoint)target.LocalEndPoint!;
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);

        const int Count = 10;
        byte[] burst = [.. Enumerable.Range(0, Count).SelectMany(i => RawSocks.Datagram(targetEndPoint, Payload(i, 500)))];
        SegmentedUdp.Send(association.Udp, burst, burst.Length / Count, association.Relay);
        byte[] buffer = new byte[2048];
        for (int i = 0; i < Count; i++)
        {
            int n = await target.ReceiveAsync(buffer, SocketFlags.None, TestTimeout.Token);
            Assert.Equal(Payload(i, 500), buffer[..n]);
        }

        var loops = Loops(server);
        Assert.Equal((0L, 0L), (loops.Sum(l => l.CoalescedReads), loops.Sum(l => l.SegmentedSends)));
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("UDP segmentation offload: off (Relay:Offload=off)", StringComparison.Ordinal));
    }

    /// <summary>Datagram <paramref name="index"/>: its number, then a pattern, <paramref name="length"/> bytes in all.</summary>
    private static byte[] Payload(int index, int length)
    {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++)
        {
            payload[i] = (byte)((index * 7) + i);
        }

        BitConverter.TryWriteBytes(payload, index);
        return payload;
    }

    /// <summary>A UDP-over-TCP datagram frame (the README, "UDP over TCP"): DATLEN HDRLEN ATYP=1 ADDR PORT DATA.</summary>
    private static byte[] Frame(IPEndPoint address, ReadOnlySpan<byte> data)
    {
        byte[] frame = new byte[10 + data.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)data.Length);
        frame[2] = 10;
        frame[3] = 0x01;
        address.Address.TryWriteBytes(frame.AsSpan(4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(8), (ushort)address.Port);
        data.CopyTo(frame.AsSpan(10));
        return frame;
    }

    private static IReadOnlyList<ILoopStatistics> Loops(RelayServer server) => ((EpollTransport)server.Services.GetRequiredService<IUdpTransport>()).Loops;

    private static Socket Bound(IPAddress ip)
    {
        var socket = new Socket(ip.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(ip, 0));
        return socket;
    }
}
