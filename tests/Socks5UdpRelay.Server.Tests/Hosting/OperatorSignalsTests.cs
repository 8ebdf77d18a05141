using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hosting;

/// <summary>What an operator watches: every counter from the first scrape, port-range exhaustion counted and named, JSON log messages without quotes inside them.</summary>
public sealed class OperatorSignalsTests
{
    [Fact]
    public async Task Metrics_EverySeriesIsThereAtZero_BeforeItsFirstEvent()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" });
        var endpoint = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;

        string text = await RawHttp.GetAsync(endpoint, "/metrics");

        foreach (string series in new[]
        {
            "socks5udprelay_udp_errors_total{kind=\"port-unreachable\"} 0",
            "socks5udprelay_udp_errors_total{kind=\"ttl-exceeded\"} 0",
            "socks5udprelay_notices_total{verb=\"UDP-DENIED\"} 0",
            "socks5udprelay_auth_failures_total 0",
            "socks5udprelay_connections_refused_total{reason=\"allow-list\"} 0",
            "socks5udprelay_connections_refused_total{reason=\"limit\"} 0",
            "socks5udprelay_associations_refused_total{reason=\"limit\"} 0",
            "socks5udprelay_associations_refused_total{reason=\"udp-port-range\"} 0",
            "socks5udprelay_associations_refused_total{reason=\"client-port\"} 0",
            "socks5udprelay_udp_source_mismatch_total 0",
        })
        {
            Assert.Contains(series + "\n", text);
        }
    }

    [Fact]
    public async Task UdpPortRangeExhausted_IsAnsweredGeneralFailure_CountedAndNamedInTheLog()
    {
        int port = FreePorts.ClosedUdp();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:UdpPortRange"] = $"{port}-{port}",
            ["Limits:MaxAssociationsPerClient"] = "1",
            ["Metrics:Enabled"] = "true",
            ["Metrics:Listen"] = "127.0.0.1:0",
        });
        await using var first = await RawAssociation.OpenAsync(server.EndPoint);
        // Another client: one client never holds more associations than the range has ports.
        await using var second = await Hardening.SourcedSocket.ConnectAsync(server.EndPoint, IPAddress.Parse("127.0.0.2"));

        await second.SendAsync(0x05, 0x01, 0x00);
        Assert.Equal(new byte[] { 0x05, 0x00 }, await second.ReadAsync(2));
        await second.SendAsync(0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0);
        var reply = await second.ReadAsync(10);

        Assert.Equal(0x01, reply[1]); // general SOCKS server failure
        string text = await RawHttp.GetAsync(server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!, "/metrics");
        Assert.Contains("socks5udprelay_associations_refused_total{reason=\"udp-port-range\"} 1\n", text);
        Assert.Contains(server.Logs.Events, e => e.Level == LogLevel.Warning && e.Message.Contains($"Relay:UdpPortRange={port}-{port}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task JsonLogs_RenderValuesInsideMessagesWithoutQuotes()
    {
        await using var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0", "--LogFormat=json", "--Metrics:Enabled=true", "--Metrics:Listen=127.0.0.1:0"]);
        string line = await server.WaitForLineAsync(l => l.Contains("Metrics on", StringComparison.Ordinal));

        using var json = JsonDocument.Parse(line);
        string message = json.RootElement.GetProperty("RenderedMessage").GetString()!;
        Assert.Matches(@"^Metrics on http://127\.0\.0\.1:\d+/metrics and /healthz$", message);
        string endpoint = json.RootElement.GetProperty("Properties").GetProperty("Endpoint").GetString()!; // and the value as a field of its own
        Assert.Equal($"Metrics on http://{endpoint}/metrics and /healthz", message);
    }
}
