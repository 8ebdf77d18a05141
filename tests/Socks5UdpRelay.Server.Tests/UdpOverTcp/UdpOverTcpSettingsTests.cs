using System.Net;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// The settings that shape UDP over TCP (README, "UDP over TCP"): <c>Relay:UdpOverTcp=off</c>
/// refuses it as an unknown command, <c>Relay:Notices=off</c> turns the opt-in down.
/// </summary>
public sealed class UdpOverTcpSettingsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UdpOverTcpOff_RequestAnswered07_CommandNotSupported(bool optIn)
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:UdpOverTcp"] = "off" });
        await using var client = await RawUdpOverTcp.ConnectAsync(server.EndPoint);

        var (code, _) = await client.RequestAsync(optIn ? RawUdpOverTcp.OptInRequest : RawUdpOverTcp.HevRequest);

        Assert.Equal(0x07, code);
        Assert.True(await client.ClosedByServerAsync());
        Assert.Equal(0, server.Endpoints.OpenAssociations);
    }

    [Fact]
    public async Task UdpOverTcpOn_IsTheDefault()
    {
        await using var server = await RelayServer.StartAsync();
        await using var client = await RawUdpOverTcp.ConnectAsync(server.EndPoint);
        Assert.Equal(0x00, (await client.RequestAsync(RawUdpOverTcp.HevRequest)).Code);
    }

    [Fact]
    public async Task NoticesOff_OptInRequest_GetsAnOrdinaryReply_AndDatagramFramesOnly()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Notices"] = "off" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.ConnectAsync(server.EndPoint);

        var (code, bound) = await client.RequestAsync(RawUdpOverTcp.OptInRequest);

        Assert.Equal(0x00, code);
        Assert.NotEqual(RawUdpOverTcp.OptInAddress, bound);
        Assert.False(client.OptedIn); // so the fixture fails on any control or mapped frame, or DATA over 1500
        await client.SendAsync(HevFrame.Datagram(FreePorts.ClosedUdpEndPoint(IPAddress.Loopback), "x"u8), HevFrame.Datagram(echo.EndPoint, "y"u8));
        Assert.Equal("y"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
        client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        Assert.Empty(await client.ReadToEndAsync());
    }

    [Theory]
    [InlineData("notices", 1)] // the name is case-sensitive
    [InlineData("NOTICES", 2)] // a version this server does not speak
    [InlineData("NOTICES", 0)]
    [InlineData("NOTICE", 1)]
    public async Task RequestNotExactlyTheOptIn_GetsAnOrdinaryReply_AndDatagramFramesOnly(string name, int version)
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.ConnectAsync(server.EndPoint);

        var (code, bound) = await client.RequestAsync([0x05, 0x05, 0x00, 0x03, (byte)name.Length, .. System.Text.Encoding.ASCII.GetBytes(name), 0x00, (byte)version]);

        Assert.Equal(0x00, code);
        Assert.Contains(bound[0], new byte[] { 0x01, 0x04 });
        Assert.False(client.OptedIn);
        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "plain"u8));
        Assert.Equal("plain"u8.ToArray(), (await client.ReadDatagramAsync()).Data); // no greeting frame first
    }

    [Fact]
    public async Task NoticesOff_AControlFrameFromTheTurnedDownClient_IsMalformed()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Notices"] = "off" });
        await using var client = await RawUdpOverTcp.ConnectAsync(server.EndPoint);
        Assert.Equal(0x00, (await client.RequestAsync(RawUdpOverTcp.OptInRequest)).Code);

        await client.SendAsync(HevFrame.Control("MAP\n"));

        Assert.True(await client.ClosedByServerAsync());
    }
}
