using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Tests.Hosting;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// <c>Relay:RequireClientPort=true</c>: only a UDP ASSOCIATE naming the client's own address and a
/// UDP port is served; anything else is answered 0x02, logged and counted. The client library
/// names its port, so it is served.
/// </summary>
public sealed class RequireClientPortTests
{
    private static readonly Dictionary<string, string?> Required = new()
    {
        ["Relay:RequireClientPort"] = "true",
        ["Metrics:Enabled"] = "true",
        ["Metrics:Listen"] = "127.0.0.1:0",
    };

    public static TheoryData<string, byte[]> NotTheClientsPort => new()
    {
        { "0.0.0.0:0", [0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0] },
        { "the client's address, port 0", [0x05, 0x03, 0x00, 0x01, 127, 0, 0, 1, 0, 0] },
        { "another address", [0x05, 0x03, 0x00, 0x01, 127, 0, 0, 2, 0x13, 0x88] },
        { "a name", [0x05, 0x03, 0x00, 0x03, 9, .. "localhost"u8, 0x13, 0x88] },
        { "0.0.0.0 with a port", [0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0x13, 0x88] },
    };

    [Theory]
    [MemberData(nameof(NotTheClientsPort))]
    public async Task RequestNotNamingTheClientsAddressAndPort_IsRefused02_LoggedAndCounted(string what, byte[] request)
    {
        await using var server = await RelayServer.StartAsync(Required);
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        Assert.Equal(new byte[] { 0x05, 0x00 }, await raw.ReadAsync(2));

        await raw.SendAsync(request);

        byte[] reply = await raw.ReadAsync(10);
        Assert.True(reply.SequenceEqual(new byte[] { 0x05, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0 }), what);
        Assert.True(await raw.ClosedByServerAsync());
        Assert.Equal(0, server.Endpoints.OpenAssociations);
        Assert.Contains(server.Logs.Events, e => e.Level == LogLevel.Warning && e.Message.Contains("Relay:RequireClientPort", StringComparison.Ordinal));
        string metrics = await RawHttp.GetAsync(server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!, "/metrics");
        Assert.Contains("socks5udprelay_associations_refused_total{reason=\"client-port\"} 1\n", metrics);
    }

    [Fact]
    public async Task ClientLibrary_NamesItsPort_AndIsServed()
    {
        await using var server = await RelayServer.StartAsync(Required);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(new Socks5ProxyOptions { Host = "127.0.0.1", Port = server.EndPoint.Port }, TestTimeout.Token);

        await association.SendAsync(echo.EndPoint, "named"u8.ToArray(), TestTimeout.Token);

        Assert.Equal(5, (await association.ReceiveAsync(new byte[16], TestTimeout.Token)).Length);
        Assert.DoesNotContain(server.Logs.Events, e => e.Message.Contains("Relay:RequireClientPort=true asks", StringComparison.Ordinal));
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("UDP association opened", StringComparison.Ordinal) && e.Message.EndsWith($"client UDP {association.LocalEndPoint}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Off_ZeroAddressRequestIsServed()
    {
        await using var server = await RelayServer.StartAsync();
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        Assert.Equal(1, server.Endpoints.OpenAssociations);
    }
}
