using System.Net.Sockets;
using Socks5UdpRelay.Server.Icmp;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Icmp;

public sealed class ErrorQueueReaderTests
{
    [Fact]
    public void Create_OnLinux_ChoosesTheLinuxReader()
    {
        Assert.True(OperatingSystem.IsLinux(), "these tests run on Linux");
        var reader = ErrorQueueReader.Create(out string? fallbackReason);
        Assert.Null(fallbackReason);
        Assert.IsType<LinuxErrorQueueReader>(reader);
    }

    [Fact]
    public void NullReader_SwitchesNothingOnAndReadsNothing()
    {
        var reader = NullErrorQueueReader.Instance;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.False(reader.IsSupported);
        Assert.False(reader.Enable(socket));
        Assert.Equal(0, reader.Drain(socket, []));

        Span<byte> value = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(0, 11, value);
        Assert.Equal(0, BitConverter.ToInt32(value));
    }
}
