using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Icmp;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Icmp;

public sealed class SocketErrorClassifierTests
{
    [Theory]
    [InlineData(SocketError.ConnectionRefused, "ECONNREFUSED", (int)UdpErrorKind.PortUnreachable)]
    [InlineData(SocketError.HostUnreachable, "EHOSTUNREACH", (int)UdpErrorKind.HostUnreachable)]
    [InlineData(SocketError.NetworkUnreachable, "ENETUNREACH", (int)UdpErrorKind.NetUnreachable)]
    [InlineData(SocketError.AccessDenied, "EACCES", (int)UdpErrorKind.AdminProhibited)]
    [InlineData(SocketError.ProtocolOption, "ENOPROTOOPT", (int)UdpErrorKind.ProtocolUnreachable)]
    [InlineData(SocketError.MessageSize, "EMSGSIZE", (int)UdpErrorKind.FragmentationNeeded)]
    [InlineData(SocketError.HostDown, "EHOSTDOWN", (int)UdpErrorKind.Unknown)]
    public void TryClassify_IcmpReportedError_GivesErrnoAndKind(SocketError error, string errno, int kind)
    {
        Assert.True(SocketErrorClassifier.TryClassify(error, out var report));
        Assert.Equal(new SocketErrorReport((UdpErrorKind)kind, errno, ErrorOrigin.None, 0, 0, null, 0, null), report);
        Assert.False(SocketErrorClassifier.IsShutdownNoise(error));
    }

    [Theory]
    [InlineData(SocketError.OperationAborted)]
    [InlineData(SocketError.Interrupted)]
    [InlineData(SocketError.Shutdown)]
    [InlineData(SocketError.NotSocket)]
    [InlineData(SocketError.ConnectionAborted)]
    [InlineData(SocketError.ConnectionReset)]
    [InlineData(SocketError.Disconnecting)]
    [InlineData(SocketError.InvalidArgument)]
    public void ShutdownNoise_IsNotAnIcmpError(SocketError error)
    {
        Assert.True(SocketErrorClassifier.IsShutdownNoise(error));
        Assert.False(SocketErrorClassifier.TryClassify(error, out _));
    }

    [Theory]
    [InlineData(SocketError.WouldBlock)]
    [InlineData(SocketError.NoBufferSpaceAvailable)]
    [InlineData(SocketError.AddressNotAvailable)]
    [InlineData(SocketError.SocketError)]
    [InlineData(SocketError.TimedOut)]
    public void OtherErrors_AreNeither(SocketError error)
    {
        Assert.False(SocketErrorClassifier.TryClassify(error, out _));
        Assert.False(SocketErrorClassifier.IsShutdownNoise(error));
    }

    [Fact]
    public async Task ConnectedSocketWithoutQueue_ClosedPort_ClassifiesAsPortUnreachable()
    {
        int port = LoopbackUdp.ClosedPort(System.Net.IPAddress.Loopback);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
        var pending = socket.ReceiveAsync(new Memory<byte>(new byte[16]), SocketFlags.None).AsTask();
        socket.Send("x"u8);

        var error = await LoopbackUdp.ReceiveFaultAsync(pending);
        Assert.True(SocketErrorClassifier.TryClassify(error, out var report));
        Assert.Equal(UdpErrorKind.PortUnreachable, report.Kind);
        Assert.Equal("ECONNREFUSED", report.Errno);
    }

    [Theory]
    [InlineData(1, "EPERM")]
    [InlineData(13, "EACCES")]
    [InlineData(90, "EMSGSIZE")]
    [InlineData(92, "ENOPROTOOPT")]
    [InlineData(101, "ENETUNREACH")]
    [InlineData(110, "ETIMEDOUT")]
    [InlineData(111, "ECONNREFUSED")]
    [InlineData(113, "EHOSTUNREACH")]
    [InlineData(999, "E999")]
    public void ErrnoNames_KnownAndUnknown(int errno, string name) => Assert.Equal(name, ErrnoNames.Get(errno));
}
