using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Gateway.Packets;
using Socks5UdpRelay.Gateway.Tests.Packets;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Gateway.Tests.Kernel;

/// <summary>
/// The codecs against the kernel itself: datagrams a real socket sent, and ICMP errors the kernel
/// generated, read raw from a TUN device, compared byte for byte with what the gateway's writers
/// build from the same inputs. Only fields the kernel chooses freely are taken from the capture:
/// the IPv4 identification and the IPv6 flow label.
/// </summary>
public sealed class KernelCaptureTests : IDisposable
{
    private readonly CaptureBench _bench = CaptureBench.Create();

    public void Dispose() => _bench.Dispose();

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void DatagramFromASocket_IsWhatTheWriterBuilds(bool v6)
    {
        var (local, remote) = v6 ? ("fd50::1", "fd50::9") : ("10.50.0.1", "10.50.0.9");
        using var socket = BoundSocket(local);
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        var payload = "through the gateway"u8.ToArray();

        socket.SendTo(payload, new IPEndPoint(IPAddress.Parse(remote), 5353));
        var captured = _bench.Next(p => IpPacketParser.Parse(p, out var u) == PacketParseResult.Udp && u.SourcePort == port);

        var built = v6
            ? TestPackets.UdpV6(local, (ushort)port, remote, 5353, payload, hopLimit: 64, flowLabel: BinaryPrimitives.ReadUInt32BigEndian(captured) & 0xFFFFF)
            : TestPackets.UdpV4(local, (ushort)port, remote, 5353, payload, ttl: 64, id: BinaryPrimitives.ReadUInt16BigEndian(captured.AsSpan(4)), dontFragment: true);
        Assert.Equal(Convert.ToHexString(built), Convert.ToHexString(captured));
    }

    [RootTheory]
    [InlineData("closed port", "10.50.0.1", 9, 64, 20, 0, 3, 3)]
    [InlineData("closed port, quote cut at 548", "10.50.0.1", 9, 64, 600, 0, 3, 3)]
    [InlineData("closed port, TOS bits copied", "10.50.0.1", 9, 64, 20, 0x10, 3, 3)]
    [InlineData("TTL 1 forwarded", "10.60.0.5", 33434, 1, 20, 0, 11, 0)]
    [InlineData("DF datagram over MTU 1280", "10.60.0.5", 53, 64, 1400, 0, 3, 4)]
    [InlineData("unreachable route", "10.61.0.5", 53, 64, 20, 0, 3, 1)]
    [InlineData("prohibit route", "10.62.0.5", 53, 64, 20, 0, 3, 13)]
    public void IPv4Error_IsWhatTheWriterBuilds(string why, string destination, int port, byte ttl, int size, byte tos, byte type, byte code)
    {
        var datagram = TestPackets.UdpV4("10.50.0.9", 40000, destination, (ushort)port, Payload(size), ttl, id: 0x1234, dontFragment: true, tos: tos);

        Assert.True(_bench.Capture.Write(datagram, default), why);
        var captured = _bench.Next(CaptureBench.IsIcmpError);

        uint info = type == 3 && code == 4 ? 1280u : 0;
        var built = new byte[IcmpErrorWriter.MaxIPv4Length];
        int length = IcmpErrorWriter.WriteIPv4(built, type, code, info, captured.AsSpan(12, 4), datagram, captured[8], BinaryPrimitives.ReadUInt16BigEndian(captured.AsSpan(4)));
        Assert.Equal(Convert.ToHexString(built, 0, length), Convert.ToHexString(captured));
        Assert.Equal(64, captured[8]);
    }

    [RootTheory]
    [InlineData("closed port", "fd50::1", 9, 64, 20, 1, 4)]
    [InlineData("closed port, quote cut at 1232", "fd50::1", 9, 64, 1400, 1, 4)]
    [InlineData("hop limit 1 forwarded", "fd60::5", 33434, 1, 20, 3, 0)]
    [InlineData("packet too big for MTU 1280", "fd60::5", 53, 64, 1400, 2, 0)]
    [InlineData("unreachable route", "fd61::5", 53, 64, 20, 1, 0)]
    [InlineData("prohibit route", "fd62::5", 53, 64, 20, 1, 1)]
    public void IPv6Error_IsWhatTheWriterBuilds(string why, string destination, int port, byte hopLimit, int size, byte type, byte code)
    {
        var datagram = TestPackets.UdpV6("fd50::9", 40000, destination, (ushort)port, Payload(size), hopLimit, flowLabel: 0x12345);

        Assert.True(_bench.Capture.Write(datagram, default), why);
        var captured = _bench.Next(CaptureBench.IsIcmpError);

        uint info = type == 2 ? 1280u : 0;
        var built = new byte[IcmpErrorWriter.MaxIPv6Length];
        int length = IcmpErrorWriter.WriteIPv6(built, type, code, info, captured.AsSpan(8, 16), datagram, captured[7], BinaryPrimitives.ReadUInt32BigEndian(captured) & 0xFFFFF);
        Assert.Equal(Convert.ToHexString(built, 0, length), Convert.ToHexString(captured));
    }

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void DatagramLargerThanTheMtu_ArrivesAsFragments(bool v6)
    {
        var (local, remote) = v6 ? ("fd50::1", "fd50::9") : ("10.50.0.1", "10.50.0.9");
        using var socket = BoundSocket(local);

        socket.SendTo(new byte[3000], new IPEndPoint(IPAddress.Parse(remote), 5353));

        for (int i = 0; i < 3; i++)
        {
            var fragment = _bench.Next(p => IpPacketParser.Parse(p, out _) != PacketParseResult.NotUdp);
            Assert.Equal(PacketParseResult.Fragment, IpPacketParser.Parse(fragment, out _));
        }
    }

    [RootFact]
    public void KernelIcmpError_IsNotUdpToTheParser()
    {
        _bench.Capture.Write(TestPackets.UdpV4("10.50.0.9", 40000, "10.50.0.1", 9, [1]), default);

        Assert.Equal(PacketParseResult.NotUdp, IpPacketParser.Parse(_bench.Next(CaptureBench.IsIcmpError), out _));
    }

    /// <summary>A UDP socket in the bench's namespace bound to cap0's address, so what it sends goes into cap0.</summary>
    private Socket BoundSocket(string local)
    {
        var address = IPAddress.Parse(local);
        var socket = _bench.Topology.CreateSocket(_bench.Namespace, address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    }

    private static byte[] Payload(int size) => [.. Enumerable.Range(0, size).Select(i => (byte)i)];
}
