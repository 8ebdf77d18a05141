using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hosting;

/// <summary>/metrics after real traffic, /healthz, and an endpoint that is off unless enabled.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_AfterTraffic_CountDatagramsErrorsAndNotices()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" });
        var endpoint = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using (var association = await RawAssociation.OpenAsync(server.EndPoint))
        {
            for (int i = 0; i < 3; i++)
            {
                await association.SendToAsync(echo.EndPoint, "m"u8.ToArray());
                await association.ReceiveAsync();
            }

            await association.SendToAsync(FreePorts.ClosedUdpEndPoint(IPAddress.Loopback), "x"u8.ToArray());
            Assert.StartsWith("UDP-ERROR", await association.Control.ReadLineAsync());
            string live = await RawHttp.GetAsync(endpoint, "/metrics");
            Assert.Contains("socks5udprelay_associations{transport=\"udp\"} 1\n", live);
            Assert.Contains("socks5udprelay_associations{transport=\"tcp\"} 0\n", live);
            Assert.Contains("socks5udprelay_destinations 2\n", live);
        }

        await server.WaitForNoAssociationsAsync();
        string text = await RawHttp.GetAsync(endpoint, "/metrics");
        Assert.Contains("HTTP/1.1 200 OK", text);
        Assert.Contains("socks5udprelay_datagrams_total{direction=\"client-to-destination\"} 4\n", text); // counted after the close too
        Assert.Contains("socks5udprelay_datagrams_total{direction=\"destination-to-client\"} 3\n", text);
        Assert.Contains("socks5udprelay_udp_errors_total{kind=\"port-unreachable\"} 1\n", text);
        Assert.Contains("socks5udprelay_notices_total{verb=\"UDP-ERROR\"} 1\n", text);
        Assert.Contains("socks5udprelay_associations{transport=\"udp\"} 0\n", text);
        Assert.Contains("# TYPE socks5udprelay_datagrams_total counter", text);
    }

    [Fact]
    public async Task Healthz_IsOk_UnknownPathIs404()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" });
        var endpoint = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        Assert.StartsWith("HTTP/1.1 200 OK", await RawHttp.GetAsync(endpoint, "/healthz"));
        Assert.StartsWith("HTTP/1.1 404", await RawHttp.GetAsync(endpoint, "/admin"));
    }

    [Fact]
    public async Task MetricsEndpoint_IsOffByDefault()
    {
        await using var server = await RelayServer.StartAsync();
        Assert.Null(server.Services.GetRequiredService<MetricsEndpoint>().EndPoint);
    }
}
