using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Control;

/// <summary>CONNECT: a TCP relay that respects half-close, with failures mapped to reply codes.</summary>
public sealed class ConnectTests
{
    public static TheoryData<string> Families => new() { "127.0.0.1", "::1" };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task RoundTrip_WithHalfClose(string loopback)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(ip, 0).ToString());
        using var target = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        target.Bind(new IPEndPoint(ip, 0));
        target.Listen();
        var serve = ServeUntilFinThenAnswerAsync(target);

        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        await raw.ReadAsync(2);
        await raw.SendAsync(ConnectRequest((IPEndPoint)target.LocalEndPoint!));
        var reply = await raw.ReadAsync(ip.AddressFamily == AddressFamily.InterNetwork ? 10 : 22);
        Assert.Equal(0x00, reply[1]);

        await raw.SendAsync("hello, "u8.ToArray());
        await raw.SendAsync("world"u8.ToArray());
        raw.Control.Shutdown(SocketShutdown.Send); // the request ends with our FIN...
        var answer = await raw.ReadAsync(100);      // ...and the answer still comes back
        Assert.Equal("got 12 bytes: hello, world", Encoding.ASCII.GetString(answer));
        await serve.Within();
    }

    [Fact]
    public async Task ByName_IsResolvedByTheServer()
    {
        await using var server = await RelayServer.StartAsync();
        using var target = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        target.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        target.Listen();
        var serve = ServeUntilFinThenAnswerAsync(target);
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        await raw.ReadAsync(2);
        int port = ((IPEndPoint)target.LocalEndPoint!).Port;
        await raw.SendAsync([0x05, 0x01, 0x00, 0x03, 9, .. "localhost"u8, (byte)(port >> 8), (byte)port]);
        Assert.Equal(0x00, (await raw.ReadAsync(10))[1]);
        raw.Control.Shutdown(SocketShutdown.Send);
        Assert.Equal("got 0 bytes: ", Encoding.ASCII.GetString(await raw.ReadAsync(100)));
        await serve.Within();
    }

    [Fact]
    public async Task BytesSentAheadOfTheReply_ReachTheDestination()
    {
        await using var server = await RelayServer.StartAsync();
        using var target = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        target.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        target.Listen();
        var serve = ServeUntilFinThenAnswerAsync(target);
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);

        // Greeting, request and the first request bytes in one write, as optimistic clients do.
        await raw.SendAsync([0x05, 0x01, 0x00, .. ConnectRequest((IPEndPoint)target.LocalEndPoint!), .. "early "u8, .. "bird"u8]);
        Assert.Equal(new byte[] { 0x05, 0x00 }, await raw.ReadAsync(2));
        Assert.Equal(0x00, (await raw.ReadAsync(10))[1]);
        raw.Control.Shutdown(SocketShutdown.Send);
        Assert.Equal("got 10 bytes: early bird", Encoding.ASCII.GetString(await raw.ReadAsync(100)));
        await serve.Within();
    }

    [Fact]
    public async Task ClosedPort_RepliesConnectionRefused()
    {
        await using var server = await RelayServer.StartAsync();
        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback); // a port number nobody listens on over TCP either, most likely
        using var check = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        check.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // hold a port without listening: connects to it are refused
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        await raw.ReadAsync(2);
        await raw.SendAsync(ConnectRequest((IPEndPoint)check.LocalEndPoint!));
        Assert.Equal(new byte[] { 0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0 }, await raw.ReadAsync(10));
        Assert.NotEqual(0, closed.Port);
    }

    [Fact]
    public async Task UnresolvableName_RepliesHostUnreachable()
    {
        await using var server = await RelayServer.StartAsync(resolver: new FakeResolver().Fail("nosuch.test", SocketError.HostNotFound));
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        await raw.ReadAsync(2);
        await raw.SendAsync([0x05, 0x01, 0x00, 0x03, 11, .. "nosuch.test"u8, 0, 80]);
        Assert.Equal(new byte[] { 0x05, 0x04, 0x00, 0x01, 0, 0, 0, 0, 0, 0 }, await raw.ReadAsync(10));
    }

    [Fact]
    public async Task DeniedDestination_RepliesNotAllowed()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Policy:LoopbackDestinations"] = "deny" });
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        await raw.ReadAsync(2);
        await raw.SendAsync(ConnectRequest(new IPEndPoint(IPAddress.Loopback, 9)));
        Assert.Equal(new byte[] { 0x05, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0 }, await raw.ReadAsync(10));
    }

    private static byte[] ConnectRequest(IPEndPoint target)
    {
        byte[] ip = target.Address.GetAddressBytes();
        return [0x05, 0x01, 0x00, ip.Length == 4 ? (byte)0x01 : (byte)0x04, .. ip, (byte)(target.Port >> 8), (byte)target.Port];
    }

    /// <summary>Reads until the client's FIN, then answers with what it got and closes: only a relay that passes FIN on gets an answer.</summary>
    private static async Task ServeUntilFinThenAnswerAsync(Socket listener)
    {
        using var connection = await listener.AcceptAsync(TestTimeout.Token);
        var received = new MemoryStream();
        byte[] buffer = new byte[1024];
        int n;
        while ((n = await connection.ReceiveAsync(buffer, SocketFlags.None, TestTimeout.Token)) > 0)
        {
            received.Write(buffer, 0, n);
        }

        byte[] answer = Encoding.ASCII.GetBytes($"got {received.Length} bytes: {Encoding.ASCII.GetString(received.ToArray())}");
        await connection.SendAsync(answer, SocketFlags.None, TestTimeout.Token);
        connection.Shutdown(SocketShutdown.Both);
    }
}
