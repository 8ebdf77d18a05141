using Socks5UdpRelay.Server.Metrics;
using System.Net;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Policy;

/// <summary>Every limit shows both sides: within it things work, past it the client gets a clear answer and the server a log line.</summary>
public sealed class LimitsTests
{
    [Fact]
    public async Task ConnectionsPerClient_PastTheLimitAreClosed_OthersKeepWorking()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Limits:MaxConnectionsPerClient"] = "2" });
        await using var first = await RawAssociation.OpenAsync(server.EndPoint);
        await using var second = await RawAssociation.OpenAsync(server.EndPoint);
        await using var third = await RawSocks.ConnectAsync(server.EndPoint);
        Assert.True(await third.ClosedByServerAsync());
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("connection refused: limit Limits:MaxConnectionsPerClient=2 for 127.0.0.1 reached", StringComparison.Ordinal));

        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await first.SendToAsync(echo.EndPoint, "still"u8.ToArray());
        Assert.Equal("still"u8.ToArray(), (await first.ReceiveAsync()).Payload);

        await second.DisposeAsync(); // a slot frees up when a connection ends
        await Eventually.TrueAsync(() => server.Endpoints.OpenSessions == 1);
        await using var fourth = await RawAssociation.OpenAsync(server.EndPoint);
    }

    [Fact]
    public async Task TotalConnections_PastTheLimitAreClosed()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Limits:MaxConnections"] = "1" });
        await using var first = await RawAssociation.OpenAsync(server.EndPoint);
        await using var second = await RawSocks.ConnectAsync(server.EndPoint);
        Assert.True(await second.ClosedByServerAsync());
    }

    [Fact]
    public async Task AssociationsPerClient_PastTheLimitAreAnswered02()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Limits:MaxAssociationsPerClient"] = "1" });
        await using var first = await RawAssociation.OpenAsync(server.EndPoint);
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        await raw.ReadAsync(2);
        await raw.SendAsync(0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0);
        Assert.Equal(new byte[] { 0x05, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0 }, await raw.ReadAsync(10));
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("UDP ASSOCIATE refused: limit Limits:MaxAssociationsPerClient=1 for 127.0.0.1 reached", StringComparison.Ordinal));

        await first.DisposeAsync();
        await server.WaitForNoAssociationsAsync();
        await using var again = await RawAssociation.OpenAsync(server.EndPoint);
    }

    [Fact]
    public async Task DatagramRate_ExcessIsDroppedCountedAndNoticed_BudgetRefills()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(
            new Dictionary<string, string?> { ["Limits:DatagramsPerSecond"] = "10", ["Limits:DatagramBurst"] = "5" }, time: time);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        var counters = server.SingleAssociation().Counters;
        for (int i = 0; i < 8; i++)
        {
            await association.SendToAsync(echo.EndPoint, [(byte)i]);
        }

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(new[] { (byte)i }, (await association.ReceiveAsync()).Payload);
        }

        Assert.Equal($"UDP-DENIED dst=127.0.0.1:{echo.Port} reason=rate-limit", await association.Control.ReadLineAsync());
        await Eventually.TrueAsync(() => counters.Dropped(DropReason.RateLimit) == 3);

        time.Advance(TimeSpan.FromSeconds(1)); // ten more tokens (capped at the burst of five)
        await association.SendToAsync(echo.EndPoint, [42]);
        Assert.Equal(new byte[] { 42 }, (await association.ReceiveAsync()).Payload);
        Assert.Equal(3, counters.Dropped(DropReason.RateLimit));
    }

    [Fact]
    public async Task ClientAllowList_OutsiderIsClosed_InsiderServed()
    {
        await using (var closed = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Policy:AllowClients:0"] = "10.0.0.0/8" }))
        {
            // From this host (loopback), outside the list: "no acceptable methods", then closed (the health check's answer).
            // A peer on another host is closed unanswered: see Topology/ScaleOutTopologyTests.
            await using var raw = await RawSocks.ConnectAsync(closed.EndPoint);
            await raw.SendAsync(0x05, 0x01, 0x00);
            Assert.Equal(new byte[] { 0x05, 0xFF }, await raw.ReadAsync(2));
            Assert.True(await raw.ClosedByServerAsync());
            Assert.Contains(closed.Logs.Events, e => e.Message.Contains("not in Policy:AllowClients: answering its greeting with no acceptable methods", StringComparison.Ordinal));
        }

        await using var open = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Policy:AllowClients:0"] = "10.0.0.0/8", ["Policy:AllowClients:1"] = "127.0.0.0/8" });
        await using var association = await RawAssociation.OpenAsync(open.EndPoint);
    }

    [Fact]
    public async Task DestinationRule_DeniesDatagramsAndConnect_OtherPortsPass()
    {
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Policy:Destinations:0:Action"] = "deny",
            ["Policy:Destinations:0:Network"] = "127.0.0.0/8",
            ["Policy:Destinations:0:Ports"] = $"{echo.Port}",
        });
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "no"u8.ToArray());
        Assert.Equal($"UDP-DENIED dst=127.0.0.1:{echo.Port} reason=policy", await association.Control.ReadLineAsync());
        Assert.Empty(echo.Senders);

        await using var other = UdpResponder.Echo(IPAddress.Loopback);
        await association.SendToAsync(other.EndPoint, "yes"u8.ToArray());
        Assert.Equal("yes"u8.ToArray(), (await association.ReceiveAsync()).Payload);

        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        await raw.ReadAsync(2);
        await raw.SendAsync(0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, (byte)(echo.Port >> 8), (byte)echo.Port);
        Assert.Equal(0x02, (await raw.ReadAsync(10))[1]);
    }
}
