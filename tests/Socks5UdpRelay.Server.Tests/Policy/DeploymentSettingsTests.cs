using System.Net;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Policy;

/// <summary>The settings a container needs: the advertised address in replies, and relay ports from a fixed range (and what happens when it is used up).</summary>
public sealed class DeploymentSettingsTests
{
    [Fact]
    public async Task AdvertisedAddress_IsWhatTheReplyNames_PerFamily()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:AdvertisedAddress:0"] = "192.0.2.10",
            ["Relay:AdvertisedAddress:1"] = "2001:db8::10",
        });
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        var relay = await raw.AssociateAsync();
        Assert.Equal(IPAddress.Parse("192.0.2.10"), relay.Address); // the IPv4 one, as the client came over IPv4
        Assert.NotEqual(0, relay.Port);
    }

    [Fact]
    public async Task WithoutAdvertisedAddress_TheReplyNamesTheAddressTheClientReached()
    {
        await using var server = await RelayServer.StartAsync(listen: "[::1]:0");
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        Assert.Equal(IPAddress.IPv6Loopback, (await raw.AssociateAsync()).Address);
    }

    [Fact]
    public async Task UdpPortRange_RelayPortsComeFromIt_ExhaustedRangeIsAnswered01()
    {
        int port = FreePorts.ClosedUdp();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:UdpPortRange"] = $"{port}-{port}", ["Limits:MaxAssociationsPerClient"] = "1" });
        await using var first = await RawAssociation.OpenAsync(server.EndPoint);
        Assert.Equal(port, first.Relay.Port);

        // Another client: one client never holds more associations than the range has ports.
        await using var raw = await Hardening.SourcedSocket.ConnectAsync(server.EndPoint, IPAddress.Parse("127.0.0.2"));
        await raw.SendAsync(0x05, 0x01, 0x00);
        await raw.ReadAsync(2);
        await raw.SendAsync(0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0);
        Assert.Equal(new byte[] { 0x05, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0 }, await raw.ReadAsync(10));
        Assert.Contains(server.Logs.Events, e => e.Message.Contains($"UDP ASSOCIATE failed: every port of Relay:UdpPortRange={port}-{port} is in use", StringComparison.Ordinal));

        await first.DisposeAsync(); // the port returns to the range
        await server.WaitForNoAssociationsAsync();
        await using var again = await RawAssociation.OpenAsync(server.EndPoint);
        Assert.Equal(port, again.Relay.Port);
    }
}
