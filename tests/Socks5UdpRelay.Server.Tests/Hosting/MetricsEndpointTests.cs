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
    public async Task ManyIdleConnections_PastTheCap_AreAnswered503AtOnce_AndTheEndpointServesAgainAfter()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" });
        var endpoint = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        var held = new List<System.Net.Sockets.Socket>();
        try
        {
            string? refused = null;
            // Connections that send nothing are held for the request deadline; whoever reaches the
            // endpoint could hold its descriptors that way. The accept loop may lag behind the
            // connects, so a few past the cap may still be held before one is refused.
            for (int i = 0; i < MetricsEndpoint.MaxConnections + 16 && refused is null; i++)
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                held.Add(socket);
                await socket.ConnectAsync(endpoint, TestTimeout.Token);
                if (i < MetricsEndpoint.MaxConnections)
                {
                    continue;
                }

                var buffer = new byte[256];
                using var quick = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
                try
                {
                    int n = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, quick.Token);
                    refused = System.Text.Encoding.ASCII.GetString(buffer, 0, n);
                }
                catch (OperationCanceledException)
                {
                    // held, not refused: the accept loop had not caught up yet
                }
            }

            Assert.NotNull(refused);
            Assert.StartsWith("HTTP/1.1 503 Service Unavailable\r\n", refused);
            Assert.EndsWith("\r\n\r\nbusy\n", refused);
            await TestTimeout.UntilAsync( // written just after the answer
                () => server.Logs.Events.Any(e => e.Message.StartsWith($"HTTP endpoint: {MetricsEndpoint.MaxConnections} connections open", StringComparison.Ordinal)), "the refusal is logged");
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }

        await TestTimeout.UntilAsync(() => RawHttp.GetAsync(endpoint, "/healthz").Result.StartsWith("HTTP/1.1 200", StringComparison.Ordinal), "the endpoint answers again");
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
