using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using static Socks5UdpRelay.Server.Tests.Icmp.LoopbackUdp;

namespace Socks5UdpRelay.Server.Tests.Icmp;

/// <summary>The error source against real ICMP errors on loopback (no root, no namespaces).</summary>
public sealed class ErrorSourceTests
{
    [Fact]
    public void TryCreate_OnThisHost_Succeeds()
    {
        var reader = CreateReader();
        Assert.True(reader.UsesErrorQueue);
    }

    [Theory]
    [InlineData("127.0.0.1", (byte)ErrorOrigin.Icmp, 3, 3)]
    [InlineData("::1", (byte)ErrorOrigin.Icmp6, 1, 4)]
    public async Task ConnectedSocket_ClosedPort_DrainsOnePortUnreachable(string loopback, byte origin, byte type, byte code)
    {
        var reader = CreateReader();
        var address = IPAddress.Parse(loopback);
        int port = FreePorts.ClosedUdp(address);
        using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        Assert.True(reader.Enable(socket));
        socket.Connect(new IPEndPoint(address, port));

        var pending = socket.ReceiveAsync(new Memory<byte>(new byte[16]), SocketFlags.None).AsTask();
        socket.Send("x"u8);
        Assert.Equal(SocketError.ConnectionRefused, await ReceiveFaultAsync(pending));

        // The exception consumed the pending error but left the entry queued.
        var reports = new List<ErrorReport>();
        Assert.Equal(1, reader.Drain(socket, reports));
        var report = Assert.Single(reports);
        Assert.Equal(UdpErrorKind.PortUnreachable, report.Kind);
        Assert.Equal("ECONNREFUSED", report.ErrnoName);
        Assert.Equal((ErrorOrigin)origin, report.Origin);
        Assert.Equal(type, report.IcmpType);
        Assert.Equal(code, report.IcmpCode);
        Assert.Equal(address, report.Offender);
        Assert.Equal(0, report.Mtu);
        Assert.Equal(new IPEndPoint(address, port), report.OriginalDestination);

        AssertNoEntries(reader, socket);
    }

    [Fact]
    public async Task DualModeSocket_Ipv4Destination_ReportsIpv4Addresses()
    {
        var reader = CreateReader();
        int port = FreePorts.ClosedUdp(IPAddress.Loopback);
        using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
        Assert.True(reader.Enable(socket));
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));

        var pending = socket.ReceiveAsync(new Memory<byte>(new byte[16]), SocketFlags.None).AsTask();
        socket.Send("x"u8);
        Assert.Equal(SocketError.ConnectionRefused, await ReceiveFaultAsync(pending));

        var reports = new List<ErrorReport>();
        Assert.Equal(1, reader.Drain(socket, reports));
        var report = Assert.Single(reports);
        Assert.Equal(UdpErrorKind.PortUnreachable, report.Kind);
        Assert.Equal(ErrorOrigin.Icmp, report.Origin);
        Assert.Equal((3, 3), (report.IcmpType, report.IcmpCode));
        Assert.Equal(IPAddress.Loopback, report.Offender);
        Assert.Equal(AddressFamily.InterNetwork, report.Offender!.AddressFamily);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), report.OriginalDestination);
        Assert.Equal(AddressFamily.InterNetwork, report.OriginalDestination!.AddressFamily);
    }

    /// <summary>Why <see cref="LinuxErrorQueueReader.Enable"/> sets IP_RECVERR too on a dual-mode socket.</summary>
    [Fact]
    public async Task DualModeSocket_Ipv6OptionAlone_QueuesNoIpv4Entry()
    {
        var reader = CreateReader();
        int port = FreePorts.ClosedUdp(IPAddress.Loopback);
        using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
        socket.SetRawSocketOption(41, 25, BitConverter.GetBytes(1));
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));

        var pending = socket.ReceiveAsync(new Memory<byte>(new byte[16]), SocketFlags.None).AsTask();
        socket.Send("x"u8);
        Assert.Equal(SocketError.ConnectionRefused, await ReceiveFaultAsync(pending));
        AssertNoEntries(reader, socket);
    }

    [Fact]
    public async Task AfterDrain_NextSendDoesNotThrow()
    {
        var reader = CreateReader();
        int port = FreePorts.ClosedUdp(IPAddress.Loopback);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.True(reader.Enable(socket));
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));

        // Without a receive to consume it, the error stays pending after the send that caused it.
        socket.Send("1"u8);
        Assert.True(socket.Poll(TestTimeout.Default, SelectMode.SelectError));
        Assert.Equal(1, reader.Drain(socket, []));

        Assert.Equal(1, socket.Send("2"u8));

        // That datagram was transmitted: its own error arrives and is the only entry.
        var pending = socket.ReceiveAsync(new Memory<byte>(new byte[16]), SocketFlags.None).AsTask();
        Assert.Equal(SocketError.ConnectionRefused, await ReceiveFaultAsync(pending));
        Assert.Equal(1, reader.Drain(socket, []));
    }

    [Fact]
    public void UnconnectedSocket_FiveClosedPorts_AllDrainedInOneCall()
    {
        var reader = CreateReader();
        int[] ports = FreePorts.ClosedUdp(IPAddress.Loopback, 5);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.True(reader.Enable(socket));
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        foreach (int port in ports)
        {
            Assert.Equal(1, socket.SendTo("x"u8, new IPEndPoint(IPAddress.Loopback, port)));
            Assert.Equal(SocketError.ConnectionRefused, WaitForPendingError(socket));
        }

        var reports = new List<ErrorReport>();
        Assert.Equal(5, reader.Drain(socket, reports));
        Assert.All(reports, r =>
        {
            Assert.Equal(UdpErrorKind.PortUnreachable, r.Kind);
            Assert.Equal(IPAddress.Loopback, r.Offender);
        });
        Assert.Equal(ports, reports.Select(r => r.OriginalDestination!.Port));
        AssertNoEntries(reader, socket);
    }

    [Fact]
    public void UnconnectedSocket_ErrorFailsTheNextSendToAnyone_EntryStaysQueued()
    {
        var reader = CreateReader();
        int[] ports = FreePorts.ClosedUdp(IPAddress.Loopback, 2);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.True(reader.Enable(socket));
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        socket.SendTo("x"u8, new IPEndPoint(IPAddress.Loopback, ports[0]));
        Assert.True(socket.Poll(TestTimeout.Default, SelectMode.SelectError));

        // The pending error fails a send to another destination; the entry survives the exception.
        var e = Assert.Throws<SocketException>(() => socket.SendTo("y"u8, new IPEndPoint(IPAddress.Loopback, ports[1])));
        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);

        var reports = new List<ErrorReport>();
        Assert.Equal(1, reader.Drain(socket, reports));
        Assert.Equal(ports[0], reports[0].OriginalDestination!.Port);
    }

    [Fact]
    public void Drain_EmptyQueue_ReturnsZero()
    {
        var reader = CreateReader();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.True(reader.Enable(socket));
        AssertNoEntries(reader, socket);

        using var plain = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        AssertNoEntries(reader, plain);
    }

    [Fact]
    public void Drain_DisposedSocket_ReturnsZeroWithoutThrowing()
    {
        var reader = CreateReader();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.True(reader.Enable(socket));
        socket.Connect(new IPEndPoint(IPAddress.Loopback, FreePorts.ClosedUdp(IPAddress.Loopback)));
        socket.Send("x"u8);
        Assert.True(socket.Poll(TestTimeout.Default, SelectMode.SelectError));
        socket.Dispose();

        AssertNoEntries(reader, socket);
    }

    [Fact]
    public void Enable_DisposedSocket_ReturnsFalse()
    {
        var reader = CreateReader();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Dispose();
        Assert.False(reader.Enable(socket));
    }

    [Fact]
    public void Enable_DualModeSocket_SetsBothOptions()
    {
        var reader = CreateReader();
        using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
        Assert.True(reader.Enable(socket));

        Span<byte> value = stackalloc byte[sizeof(int)];
        Assert.Equal(sizeof(int), socket.GetRawSocketOption(41, 25, value));
        Assert.Equal(1, BitConverter.ToInt32(value));
        Assert.Equal(sizeof(int), socket.GetRawSocketOption(0, 11, value));
        Assert.Equal(1, BitConverter.ToInt32(value));
    }

    /// <summary>
    /// A local EMSGSIZE: IPV6_MTU (41, 24) caps the socket's path MTU at 1280 and IPV6_DONTFRAG
    /// (41, 62) forbids fragmenting, so a 1500-byte datagram to ::1 fails in the sender's own
    /// stack, which queues an SO_EE_ORIGIN_LOCAL entry with the MTU in ee_info. IPv4 has no
    /// per-socket MTU, and loopback's 65536 exceeds any UDP datagram, so IPv4 cannot be provoked
    /// without root.
    /// </summary>
    [Fact]
    public void LocalEmsgsize_Ipv6DontFragOverSocketMtu_ReportsFragmentationNeededWithMtu()
    {
        var reader = CreateReader();
        int port = FreePorts.ClosedUdp(IPAddress.IPv6Loopback);
        using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        Assert.True(reader.Enable(socket));
        socket.SetRawSocketOption(41, 24, BitConverter.GetBytes(1280));
        socket.SetRawSocketOption(41, 62, BitConverter.GetBytes(1));
        socket.Connect(new IPEndPoint(IPAddress.IPv6Loopback, port));

        var e = Assert.Throws<SocketException>(() => socket.Send(new byte[1500]));
        Assert.Equal(SocketError.MessageSize, e.SocketErrorCode);

        var reports = new List<ErrorReport>();
        Assert.Equal(1, reader.Drain(socket, reports));
        var report = Assert.Single(reports);
        Assert.Equal(UdpErrorKind.FragmentationNeeded, report.Kind);
        Assert.Equal("EMSGSIZE", report.ErrnoName);
        Assert.Equal(ErrorOrigin.Local, report.Origin);
        Assert.Equal(1280, report.Mtu);
        Assert.Null(report.Offender);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, port), report.OriginalDestination);
    }
}
