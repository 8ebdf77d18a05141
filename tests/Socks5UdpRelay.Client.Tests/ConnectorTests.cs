using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Client.Tests.Fakes;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

public sealed class ConnectorTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Connect_ThenData_FlowsBothWays(string host)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { DataAfterConnectReply = "welcome\n"u8.ToArray() };

        await using var stream = await Socks5Connector.ConnectAsync(server.Options(), host, ((IPEndPoint)listener.LocalEndPoint!).Port, TestTimeout.Token).Within();
        using var accepted = await listener.AcceptAsync().Within();
        await stream.WriteAsync("ping"u8.ToArray(), TestTimeout.Token);
        var atDestination = new byte[4];
        await accepted.ReceiveAsync(atDestination).Within();
        await accepted.SendAsync("pong"u8.ToArray()).Within();
        var back = new byte[12];
        await stream.ReadExactlyAsync(back, TestTimeout.Token).Within();

        Assert.Equal("ping", Encoding.ASCII.GetString(atDestination));
        // The bytes that arrived in the same segment as the reply were not swallowed by the handshake.
        Assert.Equal("welcome\npong", Encoding.ASCII.GetString(back));
    }

    [Fact]
    public async Task Connect_Refused_ThrowsWithCode()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Reply = ReplyCode.ConnectionRefused };

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => Socks5Connector.ConnectAsync(server.Options(), "127.0.0.1", 9, TestTimeout.Token).Within());

        Assert.Equal(Socks5ErrorKind.Refused, e.Kind);
        Assert.Equal(ReplyCode.ConnectionRefused, e.Reply);
    }
}
