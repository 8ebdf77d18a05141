using System.Net;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// Notices over UDP over TCP (README, "Notices and commands over TCP"): a client that opted in
/// gets them as control frames, in order with its datagrams; a hev-style client gets datagram
/// frames only, whatever happens on its association.
/// </summary>
public sealed class UdpOverTcpNoticeTests
{
    [Theory]
    [MemberData(nameof(Loopbacks.Families), MemberType = typeof(Loopbacks))]
    public async Task ClosedPort_OptedIn_GetsUdpErrorAsAControlFrame(string loopback)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(ip, 0).ToString());
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);
        var closed = FreePorts.ClosedUdpEndPoint(ip);

        await client.SendAsync(HevFrame.Datagram(closed, "anyone?"u8));

        Assert.StartsWith($"UDP-ERROR dst={UdpOverTcpRoundTripTests.SourceText(closed)} error=port-unreachable errno=ECONNREFUSED", await client.ReadLineAsync());
    }

    [Fact]
    public async Task ClosedPort_HevStyle_GetsNoNotice_OnlyTheDatagramFramesThatFollow()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint);

        await client.SendAsync(HevFrame.Datagram(FreePorts.ClosedUdpEndPoint(IPAddress.Loopback), "anyone?"u8));
        await Eventually.TrueAsync(() => Interlocked.Read(ref server.SingleAssociation().Counters.Errors) == 1); // the error was seen: a notice would be on its way
        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "after"u8));

        // The fixture fails on any control frame; the first frame is the echo, and nothing else
        // comes before the server closes.
        Assert.Equal("after"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
        client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        Assert.Empty(await client.ReadToEndAsync());
    }

    [Fact]
    public async Task PolicyDenied_OptedIn_GetsUdpDenied_HevStyle_Nothing()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var optedIn = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);
        await using var hev = await RawUdpOverTcp.OpenAsync(server.EndPoint);
        var metadata = new IPEndPoint(IPAddress.Parse("169.254.169.254"), 80); // refused by default, never sent

        await optedIn.SendAsync(HevFrame.Datagram(metadata, "x"u8), HevFrame.Datagram(echo.EndPoint, "then"u8));
        await hev.SendAsync(HevFrame.Datagram(metadata, "x"u8), HevFrame.Datagram(echo.EndPoint, "then"u8));

        Assert.Equal("UDP-DENIED dst=169.254.169.254:80 reason=policy", await optedIn.ReadLineAsync());
        Assert.Equal("then"u8.ToArray(), (await optedIn.ReadDatagramAsync()).Data);
        Assert.Equal("then"u8.ToArray(), (await hev.ReadDatagramAsync()).Data);
        Assert.Equal(2, echo.Received);
    }

    [Fact]
    public async Task ServerShutdown_OptedIn_GetsClosingThenEof_HevStyle_EofAlone()
    {
        var server = await RelayServer.StartAsync();
        await using var optedIn = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);
        await using var hev = await RawUdpOverTcp.OpenAsync(server.EndPoint);

        await server.DisposeAsync();

        var frames = await optedIn.ReadToEndAsync();
        Assert.Equal("CLOSING reason=shutdown\n", Assert.Single(frames).Text);
        Assert.Empty(await hev.ReadToEndAsync());
    }
}
