using System.Net.Sockets;
using Socks5UdpRelay.Server.Icmp;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Icmp;

/// <summary>Errnos read with the relay's own system calls (recvmmsg) map to what .NET's sockets report, so the errno-only fallback classifies them alike.</summary>
public sealed class ErrnoNamesTests
{
    [Theory]
    [InlineData(111, SocketError.ConnectionRefused, "ECONNREFUSED")]
    [InlineData(113, SocketError.HostUnreachable, "EHOSTUNREACH")]
    [InlineData(101, SocketError.NetworkUnreachable, "ENETUNREACH")]
    [InlineData(13, SocketError.AccessDenied, "EACCES")]
    [InlineData(1, SocketError.AccessDenied, "EPERM")]
    [InlineData(92, SocketError.ProtocolOption, "ENOPROTOOPT")]
    [InlineData(90, SocketError.MessageSize, "EMSGSIZE")]
    [InlineData(112, SocketError.HostDown, "EHOSTDOWN")]
    [InlineData(104, SocketError.ConnectionReset, "ECONNRESET")]
    [InlineData(9, SocketError.OperationAborted, "EBADF")]
    [InlineData(11, SocketError.WouldBlock, "EAGAIN")]
    [InlineData(64, SocketError.SocketError, "ENONET")]
    public void ToSocketError_MatchesDotNet(int errno, SocketError expected, string name)
    {
        Assert.Equal(expected, ErrnoNames.ToSocketError(errno));
        Assert.Equal(name, ErrnoNames.Get(errno));
    }

    [Fact]
    public void ToSocketError_OfAnIcmpErrno_ClassifiesAsTheErrnoItCameFrom()
    {
        foreach (int errno in new[] { 111, 113, 101, 13, 92, 90 })
        {
            Assert.True(SocketErrorClassifier.TryClassify(ErrnoNames.ToSocketError(errno), out var report));
            Assert.Equal(ErrnoNames.Get(errno), report.Errno);
        }
    }
}
