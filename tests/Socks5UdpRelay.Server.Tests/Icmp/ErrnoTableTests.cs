using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Icmp;

/// <summary>The one table from errno to name and kind (README, "Notices": without the error queue the kind comes from the errno alone).</summary>
public sealed class ErrnoTableTests
{
    [Theory]
    [InlineData(111, "ECONNREFUSED", (int)UdpErrorKind.PortUnreachable)]
    [InlineData(113, "EHOSTUNREACH", (int)UdpErrorKind.HostUnreachable)]
    [InlineData(101, "ENETUNREACH", (int)UdpErrorKind.NetUnreachable)]
    [InlineData(13, "EACCES", (int)UdpErrorKind.AdminProhibited)]
    [InlineData(92, "ENOPROTOOPT", (int)UdpErrorKind.ProtocolUnreachable)]
    [InlineData(90, "EMSGSIZE", (int)UdpErrorKind.FragmentationNeeded)]
    [InlineData(112, "EHOSTDOWN", (int)UdpErrorKind.Unknown)]
    [InlineData(1, "EPERM", (int)UdpErrorKind.Unknown)]
    [InlineData(105, "ENOBUFS", (int)UdpErrorKind.Unknown)]
    [InlineData(110, "ETIMEDOUT", (int)UdpErrorKind.Unknown)]
    [InlineData(64, "ENONET", (int)UdpErrorKind.Unknown)]
    [InlineData(999, "E999", (int)UdpErrorKind.Unknown)]
    public void Errno_HasItsNameAndKind(int errno, string name, int kind)
    {
        Assert.Equal(name, ErrnoTable.Name(errno));
        Assert.Equal((UdpErrorKind)kind, ErrnoTable.Kind(errno));
        Assert.Equal(new ErrorReport((UdpErrorKind)kind, errno, ErrorOrigin.None, 0, 0, null, 0, null), ErrorReport.FromErrno(errno));
    }

    [Theory]
    [InlineData(9, true)]
    [InlineData(88, true)]
    [InlineData(111, false)]
    [InlineData(11, false)]
    public void Closed_IsOnlyWhatACloseUnderTheCallGives(int errno, bool closed) => Assert.Equal(closed, ErrnoTable.IsClosed(errno));

    [Fact]
    public void ErrnoOnlySource_SwitchesNothingOn_AndReportsTheErrnoAlone()
    {
        var source = ErrorSource.ErrnoOnly("test");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.False(source.UsesErrorQueue);
        Assert.False(source.Enable(socket.SafeHandle, AddressFamily.InterNetwork));
        Span<byte> value = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(0, 11, value);
        Assert.Equal(0, BitConverter.ToInt32(value));

        var reports = new List<ErrorReport>();
        Assert.Equal(0, source.Read(socket.SafeHandle, 0, reports)); // epoll's "error" with no errno: nothing to say
        Assert.Equal(1, source.Read(socket.SafeHandle, 111, reports));
        Assert.Equal(ErrorReport.FromErrno(111), Assert.Single(reports));
        Assert.Equal(0, source.Read(socket.SafeHandle, 9, reports)); // EBADF: closed under the call, not an error to report
    }

    [Fact]
    public async Task ConnectedSocketWithoutQueue_ClosedPort_ReportsPortUnreachableFromTheErrno()
    {
        var source = ErrorSource.ErrnoOnly("test");
        int port = FreePorts.ClosedUdp(IPAddress.Loopback);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        var pending = socket.ReceiveAsync(new Memory<byte>(new byte[16]), SocketFlags.None).AsTask();
        socket.Send("x"u8);
        Assert.Equal(SocketError.ConnectionRefused, await LoopbackUdp.ReceiveFaultAsync(pending));

        var reports = new List<ErrorReport>();
        source.Read(socket.SafeHandle, 111, reports);
        Assert.Equal(UdpErrorKind.PortUnreachable, Assert.Single(reports).Kind);
    }
}
