using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Policy;

/// <summary>
/// Datagrams from another address than the association's control connection (a NAT on the TCP
/// path only): refused as RFC 1928 §7 says, and made obvious: a notice naming both addresses
/// (at most one a second per association, the rest counted), one Warning line per association, a
/// counter. On loopback 127.0.0.2 stands for the client's real address behind a TCP-only NAT;
/// Topology/ScaleOutTopologyTests shows the real thing behind a masquerading load balancer.
/// </summary>
public sealed class SourceMismatchTests
{
    [Fact]
    public async Task DatagramFromAnotherAddress_IsRefused_NoticedOnceASecond_LoggedOnce_Counted()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" }, time: time);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        using var elsewhere = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        elsewhere.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await using var association = await RawAssociation.OpenAsync(server.EndPoint, udp: elsewhere);
        byte[] datagram = RawSocks.Datagram(echo.EndPoint, "through a NAT"u8);

        await association.SendAsync(datagram);
        string expected = $"UDP-DENIED dst={echo.EndPoint} reason=source-mismatch from=127.0.0.2 expected=127.0.0.1";
        Assert.Equal(expected, await association.Control.ReadLineAsync());
        for (int i = 0; i < 5; i++)
        {
            await association.SendAsync(datagram);
        }

        await Eventually.TrueAsync(() => SourceMismatches(server) == 6);
        time.Advance(TimeSpan.FromSeconds(1));
        await association.SendAsync(datagram);

        Assert.Equal($"{expected} suppressed=5", await association.Control.ReadLineAsync()); // the five in between were not written
        Assert.Empty(echo.Senders);
        Assert.Single(server.Logs.Events, e => e.Level == LogLevel.Warning && e.Message.Contains("UDP datagrams for its association come from 127.0.0.2, not from its control connection's address", StringComparison.Ordinal));
        string metrics = await RawHttp.GetAsync(server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!, "/metrics");
        Assert.Contains("socks5udprelay_udp_source_mismatch_total 7\n", metrics);
        Assert.True(Notice.TryParse(expected, out var notice));
        Assert.Equal(DeniedReasons.SourceMismatch, notice.Reason);
    }

    [Fact]
    public async Task DatagramFromTheClientsAddressButAnotherPort_IsNoMismatch()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(time: time);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "locks the port"u8.ToArray());
        await association.ReceiveAsync();
        using var otherPort = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        otherPort.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var elsewhere = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        elsewhere.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));

        await otherPort.SendToAsync(RawSocks.Datagram(echo.EndPoint, "x"u8), SocketFlags.None, association.Relay);
        await elsewhere.SendToAsync(RawSocks.Datagram(echo.EndPoint, "y"u8), SocketFlags.None, association.Relay);

        // The first line is the mismatch from 127.0.0.2, with nothing suppressed: the other port did not count.
        Assert.Equal($"UDP-DENIED dst={echo.EndPoint} reason=source-mismatch from=127.0.0.2 expected=127.0.0.1", await association.Control.ReadLineAsync());
        Assert.Single(echo.Senders);
    }

    private static long SourceMismatches(RelayServer server)
    {
        string text = server.Services.GetRequiredService<PrometheusExporter>().Scrape();
        var line = text.Split('\n').Single(l => l.StartsWith("socks5udprelay_udp_source_mismatch_total ", StringComparison.Ordinal));
        return long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
