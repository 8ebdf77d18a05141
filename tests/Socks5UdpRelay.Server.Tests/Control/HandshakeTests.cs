using System.Net;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using Socks5UdpRelay.Server.Tests.Fixtures;

namespace Socks5UdpRelay.Server.Tests.Control;

/// <summary>Malformed and unsupported handshakes get a reply code or a close, and the server keeps serving.</summary>
public sealed class HandshakeTests : IAsyncLifetime
{
    private RelayServer _server = null!;

    public async Task InitializeAsync() => _server = await RelayServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, byte[]> ClosingGreetings => new()
    {
        { "SOCKS4 version byte", [0x04, 0x01, 0x00, 0x50, 127, 0, 0, 1, 0] },
        { "NMETHODS zero", [0x05, 0x00] },
        { "HTTP request", "GET / HTTP/1.1\r\n\r\n"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(ClosingGreetings))]
    public async Task BadGreeting_ClosesConnection(string what, byte[] greeting)
    {
        Assert.NotEmpty(what);
        await using var raw = await RawSocks.ConnectAsync(_server.EndPoint);
        await raw.SendAsync(greeting);
        Assert.True(await raw.ClosedByServerAsync());
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task NoAcceptableMethod_RepliesFFAndCloses()
    {
        await using var raw = await RawSocks.ConnectAsync(_server.EndPoint);
        await raw.SendAsync(0x05, 0x02, 0x01, 0x02); // GSSAPI, username/password; no users are configured
        Assert.Equal(new byte[] { 0x05, 0xFF }, await raw.ReadAsync(2));
        Assert.True(await raw.ClosedByServerAsync());
    }

    public static TheoryData<string, byte[], byte> RejectedRequests => new()
    {
        { "BIND", [0x05, 0x02, 0x00, 0x01, 127, 0, 0, 1, 0, 80], 0x07 },
        { "unknown command 0x09", [0x05, 0x09, 0x00, 0x01, 127, 0, 0, 1, 0, 80], 0x07 },
        { "unknown ATYP 0x05", [0x05, 0x01, 0x00, 0x05, 127, 0, 0, 1, 0, 80], 0x08 },
        { "zero-length domain", [0x05, 0x03, 0x00, 0x03, 0x00, 0, 80], 0x01 },
        { "request with VER 4", [0x04, 0x01, 0x00, 0x01, 127, 0, 0, 1, 0, 80], 0x01 },
    };

    [Theory]
    [MemberData(nameof(RejectedRequests))]
    public async Task RejectedRequest_GetsReplyCodeThenClose(string what, byte[] request, byte expectedReply)
    {
        Assert.NotEmpty(what);
        await using var raw = await RawSocks.ConnectAsync(_server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        Assert.Equal(new byte[] { 0x05, 0x00 }, await raw.ReadAsync(2));
        await raw.SendAsync(request);
        var reply = await raw.ReadAsync(10);
        Assert.Equal(new byte[] { 0x05, expectedReply, 0x00, 0x01, 0, 0, 0, 0, 0, 0 }, reply);
        Assert.True(await raw.ClosedByServerAsync());
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task TruncatedRequestThenClose_ServerKeepsServing()
    {
        await using (var raw = await RawSocks.ConnectAsync(_server.EndPoint))
        {
            await raw.SendAsync(0x05, 0x01, 0x00);
            await raw.ReadAsync(2);
            await raw.SendAsync(0x05, 0x03, 0x00, 0x03, 0x20, (byte)'a'); // name promised 32 bytes, gave one
        }

        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task OverlongGarbage_ClosesWithoutCrash()
    {
        await using var raw = await RawSocks.ConnectAsync(_server.EndPoint);
        await raw.SendAsync(0x05, 0xFF);
        await raw.SendAsync(Enumerable.Repeat((byte)0x00, 255).ToArray()); // a valid 255-method greeting...
        Assert.Equal(new byte[] { 0x05, 0x00 }, await raw.ReadAsync(2));
        await raw.SendAsync(Enumerable.Repeat((byte)0x05, 4000).ToArray()); // ...then a request that is not one

        // ATYP 5 is answered 0x08; with 4 KB unread the close may be a reset that overtakes the reply.
        byte[] reply;
        try
        {
            reply = await raw.ReadAsync(10);
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
            reply = [];
        }

        Assert.True(reply.Length == 0 || reply.AsSpan(0, 2).SequenceEqual(new byte[] { 0x05, 0x08 }), Convert.ToHexString(reply));
        Assert.True(reply.Length == 0 || await raw.ClosedByServerAsync());
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task GreetingAndRequestInOneWrite_AreBothServed()
    {
        await using var raw = await RawSocks.ConnectAsync(_server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00, 0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0);
        var replies = await raw.ReadAsync(2 + 10);
        Assert.Equal(new byte[] { 0x05, 0x00, 0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1 }, replies[..10]);
    }

    [Fact]
    public async Task SilentClient_IsClosedAtHandshakeDeadline()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:HandshakeTimeout"] = "00:00:05" }, time: time);
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01); // half a greeting
        await Eventually.TrueAsync(() => time.ActiveTimers > 0 && server.Endpoints.OpenSessions == 1);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, server.Endpoints.OpenSessions);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await raw.ClosedByServerAsync());
    }

    private async Task AssertServerStillServesAsync()
    {
        await using var raw = await RawSocks.ConnectAsync(_server.EndPoint);
        var relay = await raw.AssociateAsync();
        Assert.Equal(IPAddress.Loopback, relay.Address);
        Assert.Equal("NOTICES version=1 commands=set,map", await raw.ReadLineAsync());
    }
}
