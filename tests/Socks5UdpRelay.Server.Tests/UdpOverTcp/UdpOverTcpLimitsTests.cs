using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// A UDP-over-TCP association takes the same slot under <c>Limits</c> as a UDP ASSOCIATE's and is
/// counted beside it (README, "UDP over TCP": <c>socks5udprelay.associations{transport=tcp}</c>).
/// </summary>
public sealed class UdpOverTcpLimitsTests
{
    private static readonly byte[] Refused02 = [0x05, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0];

    [Fact]
    public async Task MaxAssociationsPerClient_CountsUdpOverTcp_AgainstUdpAssociate()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Limits:MaxAssociationsPerClient"] = "1" });
        await using (var overTcp = await RawUdpOverTcp.OpenAsync(server.EndPoint))
        {
            await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
            await raw.SendAsync(0x05, 0x01, 0x00);
            await raw.ReadAsync(2);
            await raw.SendAsync(0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0);
            Assert.Equal(Refused02, await raw.ReadAsync(10));
        }

        await server.WaitForNoAssociationsAsync();
        await using var udp = await RawAssociation.OpenAsync(server.EndPoint);
        await using var second = await RawUdpOverTcp.ConnectAsync(server.EndPoint);
        var (code, _) = await second.RequestAsync(RawUdpOverTcp.OptInRequest);
        Assert.Equal(0x02, code);
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("refused: limit Limits:MaxAssociationsPerClient=1 for 127.0.0.1 reached", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MaxAssociationsPerClient_CountsUdpOverTcp_AgainstEachOther()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Limits:MaxAssociationsPerClient"] = "2" });
        await using var first = await RawUdpOverTcp.OpenAsync(server.EndPoint);
        await using var second = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);
        await using var third = await RawUdpOverTcp.ConnectAsync(server.EndPoint);
        Assert.Equal(0x02, (await third.RequestAsync(RawUdpOverTcp.HevRequest)).Code);
    }

    [Fact]
    public async Task Metrics_CountUdpOverTcpAssociations_AsTransportTcp()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" });
        var metrics = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using (var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true))
        {
            await using var hev = await RawUdpOverTcp.OpenAsync(server.EndPoint);
            await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "m"u8));
            await client.ReadDatagramAsync();
            string live = await RawHttp.GetAsync(metrics, "/metrics");
            Assert.Contains("socks5udprelay_associations{transport=\"tcp\"} 2\n", live);
            Assert.Contains("socks5udprelay_associations{transport=\"udp\"} 0\n", live);
        }

        await server.WaitForNoAssociationsAsync();
        string after = await RawHttp.GetAsync(metrics, "/metrics");
        Assert.Contains("socks5udprelay_associations{transport=\"tcp\"} 0\n", after);
        Assert.Contains("socks5udprelay_datagrams_total{direction=\"client-to-destination\"} 1\n", after);
        Assert.Contains("socks5udprelay_datagrams_total{direction=\"destination-to-client\"} 1\n", after);
    }
}
