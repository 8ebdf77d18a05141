using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Transport;
using Socks5UdpRelay.Server.Transport.Epoll;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Tests.Transport;

/// <summary>
/// GRO reads and GSO sends of the engine on real loopback sockets: a coalesced read presented
/// datagram by datagram, runs leaving in one segmented send, a refused segmented send resent one
/// by one and remembered, an ICMP error inside a batch reported once with nothing lost.
/// </summary>
public sealed class SegmentationOffloadTests
{
    [Fact]
    public void GroRead_PresentsEachDatagramAlone_WithItsSource_TheLastOneShorter()
    {
        using var receiver = Bound();
        SegmentedUdp.EnableGro(receiver);
        using var sender = Bound();
        byte[] burst = Burst(6, 1000, lastLength: 300);
        SegmentedUdp.Send(sender, burst, 1000, (IPEndPoint)receiver.LocalEndPoint!);
        sender.SendTo(Segment(9, 77), receiver.LocalEndPoint!);

        using var batch = new DatagramBatch();
        Assert.Equal(2, batch.Receive(receiver.SafeHandle, withAddresses: true, withSegments: true));
        Assert.Equal((7, 1), (batch.Count, batch.CoalescedReads));
        var from = (IPEndPoint)sender.LocalEndPoint!;
        for (int i = 0; i < batch.Count; i++)
        {
            byte[] expected = i < 6 ? Segment(i, i < 5 ? 1000 : 300) : Segment(9, 77);
            Assert.Equal(expected, batch.Payload(i).ToArray());
            Assert.True(RawSocketAddress.TryRead(batch.Source(i), out var address, out int port));
            Assert.Equal(from, new IPEndPoint(address, port));
        }
    }

    [Fact]
    public unsafe void EqualSizes_LeaveInOneSegmentedSend_ThatArrivesAsSeparateDatagramsBehindTheirHeaders()
    {
        using var relay = Bound();
        using var client = Bound();
        SegmentedUdp.EnableGro(client); // shows the send was segmented: the kernel hands it over whole
        client.ReceiveTimeout = (int)TestTimeout.Default.TotalMilliseconds;
        using var batch = new DatagramBatch();
        batch.LoadCoalesced(Burst(4, 500, lastLength: 100), 500);
        byte[] header = [0, 0, 0, 1, 127, 0, 0, 1, 0x12, 0x34];
        batch.ShareReplyHeader(header);
        using var list = new SendList();
        list.Begin(Sockaddr(client));
        for (int i = 0; i < batch.Count; i++)
        {
            list.Add(batch.ReplyHeaderPointer(i), header.Length, batch.PayloadPointer(i), batch.Payload(i).Length);
        }

        byte[] larger = Segment(7, 600);
        fixed (byte* data = larger)
        {
            list.Add(batch.ReplyHeaderPointer(0), header.Length, data, larger.Length); // a new size: a send of its own
            int maxSegment = UdpSegmentation.MaxBytes;
            var outcome = list.Send(relay.SafeHandle, ref maxSegment, errors: null);
            Assert.Equal(5, outcome.Sent);
            Assert.Equal((3L * 510) + 110 + 610, outcome.Bytes);
            Assert.Equal(1, list.SegmentedSends);
        }

        var (first, size) = SegmentedUdp.Receive(client);
        Assert.Equal(510, size);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => (byte[])[.. header, .. Segment(i, i < 3 ? 500 : 100)]), first);
        var (second, alone) = SegmentedUdp.Receive(client);
        Assert.Equal(0, alone);
        Assert.Equal([.. header, .. larger], Assert.Single(second));
    }

    [Fact]
    public async Task RefusedSegmentation_SendsOneByOne_AndTheSocketRemembers()
    {
        using var loop = new EventLoop(0, ErrorSource.Create(), e => throw e, e => throw e);
        Assert.True(loop.Offload.Gso, "this kernel offers UDP_SEGMENT");
        var handle = UdpDescriptor.Open(AddressFamily.InterNetwork);
        Assert.Equal(0, UdpDescriptor.TryBind(handle, IPAddress.Loopback, 0));
        UdpDescriptor.SetOption(handle, SocketOptions.SOL_SOCKET, SoNoCheck, 1, "SO_NO_CHECK"); // UDP without checksums: the kernel refuses GSO (EINVAL)
        var relay = new EpollClientSocket(handle, loop);
        using var client = Bound();
        client.ReceiveTimeout = (int)TestTimeout.Default.TotalMilliseconds;
        using var batch = new DatagramBatch();
        byte[] header = [0, 0, 0, 1, 127, 0, 0, 1, 0x12, 0x34];
        byte[] received = new byte[1024];
        for (int round = 0; round < 2; round++)
        {
            await loop.InvokeAsync(() =>
            {
                batch.LoadCoalesced(Burst(10, 500, lastLength: 500), 500);
                batch.ShareReplyHeader(header);
                Assert.Equal(10, relay.SendReplies(batch, Sockaddr(client), out long payloadBytes));
                Assert.Equal(5000, payloadBytes);
            });
            for (int i = 0; i < 10; i++)
            {
                int n = client.Receive(received);
                Assert.Equal([.. header, .. Segment(i, 500)], received[..n]);
            }

            Assert.Equal(1, loop.SegmentationRefusals); // refused once, then not asked again
            Assert.Equal(0, loop.SegmentedSends);
        }

        await loop.InvokeAsync(relay.Dispose);
    }

    [Fact]
    public unsafe void IcmpErrorInsideABatch_IsReportedOnce_AndNothingIsLost()
    {
        var source = ErrorSource.Create();
        var port = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.True(source.Enable(socket.SafeHandle, AddressFamily.InterNetwork));
        socket.Connect(port);
        socket.Send("x"u8);
        Assert.True(socket.Poll(TestTimeout.Default, SelectMode.SelectError)); // port unreachable: held until the next operation

        using var destination = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        destination.Bind(port); // from now on the port answers: no further error
        destination.ReceiveTimeout = (int)TestTimeout.Default.TotalMilliseconds;
        byte[] burst = Burst(3, 200, lastLength: 200);
        byte[] single = Segment(3, 50);
        var errors = new RecordingErrors(source, socket);
        using var list = new SendList();
        list.Begin(default);
        fixed (byte* data = burst)
        fixed (byte* alone = single)
        {
            for (int i = 0; i < 3; i++)
            {
                list.Add(null, 0, data + (i * 200), 200);
            }

            list.Add(null, 0, alone, single.Length);
            int maxSegment = UdpSegmentation.MaxBytes;
            var outcome = list.Send(socket.SafeHandle, ref maxSegment, errors);
            Assert.Equal(new SendOutcome(4, 650, 0, 0, 1), outcome);
            Assert.Equal(UdpSegmentation.MaxBytes, maxSegment); // an ICMP error is no refusal
        }

        Assert.Equal([Errno.ECONNREFUSED], errors.Errnos);
        var report = Assert.Single(errors.Reports);
        Assert.Equal((Errno.ECONNREFUSED, ErrorOrigin.Icmp), (report.Errno, report.Origin));
        byte[] received = new byte[1024];
        for (int i = 0; i < 4; i++)
        {
            int n = destination.Receive(received);
            Assert.Equal(i < 3 ? Segment(i, 200) : single, received[..n]);
        }
    }

    private const int SoNoCheck = 11;

    /// <summary>Datagram <paramref name="index"/> of a burst: its number, then a pattern, <paramref name="length"/> bytes in all.</summary>
    private static byte[] Segment(int index, int length)
    {
        byte[] segment = new byte[length];
        for (int i = 0; i < length; i++)
        {
            segment[i] = (byte)((index * 31) + i);
        }

        segment[0] = (byte)index;
        return segment;
    }

    private static byte[] Burst(int count, int size, int lastLength)
        => [.. Enumerable.Range(0, count).SelectMany(i => Segment(i, i == count - 1 ? lastLength : size))];

    private static byte[] Sockaddr(Socket socket)
    {
        var endPoint = (IPEndPoint)socket.LocalEndPoint!;
        byte[] address = new byte[RawSocketAddress.MaxLength];
        return address[..RawSocketAddress.Write(address, endPoint.Address, endPoint.Port)];
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private sealed class RecordingErrors(ErrorSource source, Socket socket) : ISendErrors
    {
        public List<int> Errnos { get; } = [];

        public List<ErrorReport> Reports { get; } = [];

        public bool OnSendError(int errno)
        {
            Errnos.Add(errno);
            source.Read(socket.SafeHandle, errno, Reports);
            return true;
        }

        public bool ReportHeld() => source.Read(socket.SafeHandle, 0, Reports) > 0;
    }
}
