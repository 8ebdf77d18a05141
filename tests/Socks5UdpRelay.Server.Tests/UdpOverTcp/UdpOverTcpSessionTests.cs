using System.Net;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// What a UDP-over-TCP association shares with a UDP ASSOCIATE's (README, "UDP over TCP"):
/// authentication, hev-socks5-tunnel's handshake in either of its forms, and the idle timeout.
/// </summary>
public sealed class UdpOverTcpSessionTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WithUsers_AnAuthenticatedHevClient_StandardOrPipelined_IsServed(bool pipelined)
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Users:0:Name"] = "alice",
            ["Auth:Users:0:PasswordHash"] = PasswordHash.Create("wonderland", iterations: 10_000),
        });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.ConnectAsync(server.EndPoint, pipelined, credentials: new NetworkCredential("alice", "wonderland"));
        byte[] frame = HevFrame.Datagram(echo.EndPoint, "authenticated"u8);

        var (code, _) = pipelined ? await client.PipelineAsync(RawUdpOverTcp.HevRequest, frame) : await client.RequestAsync(RawUdpOverTcp.HevRequest, frame);

        Assert.Equal(0x00, code);
        Assert.Equal("authenticated"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
    }

    [Fact]
    public async Task IdleAssociation_OptedIn_GetsClosingThenEof_HevStyle_EofAlone()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:AssociationIdleTimeout"] = "00:05:00" }, time: time);
        await using var optedIn = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);
        await using var hev = await RawUdpOverTcp.OpenAsync(server.EndPoint);

        time.Advance(TimeSpan.FromMinutes(4));
        await server.SettleLoopsAsync();
        Assert.Equal(2, server.Endpoints.OpenAssociations);
        time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal("CLOSING reason=idle-timeout\n", Assert.Single(await optedIn.ReadToEndAsync()).Text);
        Assert.Empty(await hev.ReadToEndAsync());
        await server.WaitForNoAssociationsAsync();
    }
}
