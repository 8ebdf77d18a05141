using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Transport;
using Socks5UdpRelay.Server.Transport.Epoll;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Transport;

/// <summary>
/// recvmmsg/sendmmsg over the batch's native buffers, on real loopback sockets: counts, payloads,
/// source addresses, the header room, errors as errnos, and what .NET itself reports for them.
/// </summary>
public sealed class DatagramBatchTests
{
    [Fact]
    public void QueuedDatagrams_ComeInFullBatchesThenAShortOne_WithPayloadsAndSourcesInOrder()
    {
        using var receiver = Bound();
        using var first = Bound();
        using var second = Bound();
        const int Count = DatagramBatch.Capacity + 8;
        for (int i = 0; i < Count; i++)
        {
            (i % 2 == 0 ? first : second).SendTo(Payload(i), receiver.LocalEndPoint!);
        }

        using var batch = new DatagramBatch();
        int seen = 0;
        foreach (int expected in new[] { DatagramBatch.Capacity, 8, 0 })
        {
            int count = batch.Receive(receiver.SafeHandle, withAddresses: true);
            Assert.Equal(expected, count);
            for (int i = 0; i < count; i++, seen++)
            {
                Assert.Equal(Payload(seen), batch.Payload(i).ToArray());
                var sender = (IPEndPoint)(seen % 2 == 0 ? first : second).LocalEndPoint!;
                var source = batch.Source(i);
                Assert.Equal(16, source.Length); // sockaddr_in
                Assert.Equal(sender.Port, BinaryPrimitives.ReadUInt16BigEndian(source[2..]));
                Assert.Equal(sender.Address.GetAddressBytes(), source.Slice(4, 4).ToArray());
            }
        }

        Assert.Equal(Count, seen);
    }

    [Fact]
    public unsafe void ReceivedDatagrams_GoOutBehindTheirSharedHeaderInOneSend_AndTheirBytesAreCounted()
    {
        using var relay = Bound();
        using var source = Bound();
        using var client = Bound();
        for (int i = 0; i < 5; i++)
        {
            source.SendTo(Payload(i), relay.LocalEndPoint!);
        }

        using var batch = new DatagramBatch();
        Assert.Equal(5, batch.Receive(relay.SafeHandle, withAddresses: false));
        byte[] header = [0, 0, 0, 1, 127, 0, 0, 1, 0x12, 0x34];
        batch.ShareReplyHeader(header);
        var address = new SocketAddress(AddressFamily.InterNetwork);
        ((IPEndPoint)client.LocalEndPoint!).Serialize().Buffer.Span.CopyTo(address.Buffer.Span);
        using var list = new SendList();
        list.Begin(address.Buffer.Span[..16]);
        long expectedBytes = 0;
        for (int i = 0; i < 5; i++)
        {
            if (i == 2)
            {
                continue; // left out, as a reply too large for the client would be
            }

            list.Add(batch.ReplyHeaderPointer(i), header.Length, batch.PayloadPointer(i), batch.Payload(i).Length);
            expectedBytes += header.Length + Payload(i).Length;
        }

        int noSegmentation = 0;
        var outcome = list.Send(relay.SafeHandle, ref noSegmentation, errors: null);
        Assert.Equal((4, expectedBytes), (outcome.Sent, outcome.Bytes));
        byte[] buffer = new byte[256];
        foreach (int i in new[] { 0, 1, 3, 4 })
        {
            int n = client.Receive(buffer);
            Assert.Equal([.. header, .. Payload(i)], buffer[..n]);
            Assert.Equal(Payload(i), batch.Payload(i).ToArray());
        }
    }

    [Fact]
    public void PendingIcmpError_IsReturnedAsMinusErrno_WhichIsWhatDotNetSeesToo()
    {
        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        using var ours = Connected(closed);
        using var theirs = Connected(closed);
        ours.Send("x"u8);
        theirs.Send("x"u8);

        // Wait for the error on each (poll reports it as POLLERR), then read it both ways.
        Assert.True(ours.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectError));
        Assert.True(theirs.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectError));
        using var batch = new DatagramBatch();
        int result = batch.Receive(ours.SafeHandle, withAddresses: false);
        Assert.Equal(-Interop.Errno.ECONNREFUSED, result);
        theirs.Receive(new byte[16], SocketFlags.None, out var dotnet);
        Assert.Equal(SocketError.ConnectionRefused, dotnet);
        Assert.Equal(0, batch.Receive(ours.SafeHandle, withAddresses: false)); // reported once, then an empty queue
    }

    private static byte[] Payload(int i) => [.. BitConverter.GetBytes(i), .. new byte[i % 7]];

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static Socket Connected(IPEndPoint remote)
    {
        var socket = Bound();
        socket.Connect(remote);
        socket.Blocking = false;
        return socket;
    }
}
