using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.WarmUp;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hosting;

/// <summary>The error path's warm-up at start: it runs through a real association to a real error, and shows up nowhere.</summary>
public sealed class WarmUpTests
{
    private static readonly Dictionary<string, string?> WithMetrics = new() { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" };

    [Fact]
    public async Task WarmUp_ReadsItsOwnNotice_OnThisHost()
    {
        await using var server = await RelayServer.StartAsync(WithMetrics);

        // Throws unless a UDP-ERROR came back for its datagram through a relay port, a destination socket and the error queue.
        await server.Services.GetRequiredService<ErrorPathWarmUp>().RunAsync().Within();
        await AssertNothingShowsAsync(server);
    }

    [Fact]
    public async Task AfterStart_NoMetricNoLogLineNoPortNoAssociationRemains()
    {
        await using var server = await RelayServer.StartAsync(WithMetrics);
        await AssertNothingShowsAsync(server);
        Assert.Empty(server.Services.GetRequiredService<Server.Control.AssociationRegistry>().Associations);
        Assert.Equal(0, server.Services.GetRequiredService<OutboundPortRegistry>().Count);

        // The first real association is number 1: the warm-up's did not come from the server's factory.
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "x"u8.ToArray());
        await association.ReceiveAsync();
        Assert.Equal(1, server.SingleAssociation().Id);
    }

    private static async Task AssertNothingShowsAsync(RelayServer server)
    {
        var endpoint = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        string text = await RawHttp.GetAsync(endpoint, "/metrics");
        Assert.Contains("socks5udprelay_udp_errors_total{kind=\"port-unreachable\"} 0\n", text);
        Assert.Contains("socks5udprelay_notices_total{verb=\"UDP-ERROR\"} 0\n", text);
        Assert.Contains("socks5udprelay_datagrams_total{direction=\"client-to-destination\"} 0\n", text);
        var loopLines = text.Split('\n').Where(l => l.StartsWith("socks5udprelay_loop_datagrams_total{", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(loopLines);
        Assert.All(loopLines, l => Assert.EndsWith(" 0", l));
        Assert.Contains("socks5udprelay_associations{transport=\"udp\"} 0\n", text);
        Assert.DoesNotContain(server.Logs.Events, e => e.Message.Contains("association", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("UDP-ERROR", StringComparison.Ordinal) || e.Message.Contains("warm", StringComparison.OrdinalIgnoreCase));
    }
}
