using System.Net;
using System.Text.Json;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Admin;

/// <summary>
/// <c>GET /flows/stream</c> against the real server: a snapshot, then changes only; a new
/// association and a new error reported within two ticks of the feed (counted in ticks, not
/// timed: ticks are what "two intervals" means, whatever else the machine is doing).
/// </summary>
public sealed class FlowStreamTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Stream_ReportsANewAssociationAndANewError_WithinTwoTicks()
    {
        await using var view = await FlowViewServer.StartAsync();
        await using var events = await view.StreamAsync();
        var first = (await events.NextAsync())!.Value;
        Assert.Equal("snapshot", first.Name);
        Assert.Empty(first.Data.GetProperty("associations").EnumerateArray());
        Assert.Equal(0, first.Data.GetProperty("total").GetInt32());

        await using var association = await RawAssociation.OpenAsync(view.Server.EndPoint);
        long opened = view.Feed.CurrentSeq; // the association was registered before its reply
        var openedAt = DateTimeOffset.UtcNow;
        var appeared = await events.UntilAsync((name, data) => Upserted(data).Any());
        Assert.Equal("changes", appeared.Name);
        Assert.True(appeared.Data.GetProperty("seq").GetInt64() <= opened + 2, $"tick {appeared.Data.GetProperty("seq")}, opened at {opened}");
        var a = Assert.Single(Upserted(appeared.Data));
        Assert.Equal(association.Relay.ToString(), a.GetProperty("relay").GetString());
        Assert.Equal(1, appeared.Data.GetProperty("total").GetInt32());
        output.WriteLine($"new association: tick {appeared.Data.GetProperty("seq")} after {opened}, {(DateTimeOffset.UtcNow - openedAt).TotalMilliseconds:F0} ms");

        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await association.SendToAsync(closed, "x"u8.ToArray());
        Assert.StartsWith("UDP-ERROR", await association.Control.ReadLineAsync());
        long failed = view.Feed.CurrentSeq; // the error is on the loop before the notice leaves it
        var failedAt = DateTimeOffset.UtcNow;
        var marked = await events.UntilAsync((_, data) => Upserted(data).Any(u => Destinations(u).Any(d => d.GetProperty("lastError").ValueKind == JsonValueKind.Object)));
        Assert.True(marked.Data.GetProperty("seq").GetInt64() <= failed + 2, $"tick {marked.Data.GetProperty("seq")}, failed at {failed}");
        var destination = Destinations(Assert.Single(Upserted(marked.Data))).Single(d => d.GetProperty("address").GetString() == closed.ToString());
        Assert.Equal("port-unreachable", destination.GetProperty("lastError").GetProperty("kind").GetString());
        output.WriteLine($"new error: tick {marked.Data.GetProperty("seq")} after {failed}, {(DateTimeOffset.UtcNow - failedAt).TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Stream_SendsNothingForAnIdleAssociation_AndTheIdsOfThoseThatLeave()
    {
        await using var view = await FlowViewServer.StartAsync();
        var leaving = await RawAssociation.OpenAsync(view.Server.EndPoint);
        await using var staying = await RawAssociation.OpenAsync(view.Server.EndPoint);
        await using var events = await view.StreamAsync();
        var snapshot = (await events.NextAsync())!.Value;
        var ids = snapshot.Data.GetProperty("associations").EnumerateArray().Select(a => a.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(2, ids.Count);

        // Idle: ticks come with nothing in them.
        for (int i = 0; i < 3; i++)
        {
            var tick = (await events.NextAsync())!.Value;
            Assert.Equal("changes", tick.Name);
            Assert.Empty(Upserted(tick.Data));
            Assert.Empty(tick.Data.GetProperty("removed").EnumerateArray());
        }

        await leaving.DisposeAsync();
        var left = await events.UntilAsync((_, data) => data.GetProperty("removed").GetArrayLength() > 0);
        Assert.Equal([ids[0]], left.Data.GetProperty("removed").EnumerateArray().Select(r => r.GetInt64()));
        Assert.Equal(1, left.Data.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Stream_KeepsToItsFilterAndLimit()
    {
        await using var view = await FlowViewServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var first = await RawAssociation.OpenAsync(view.Server.EndPoint);
        await using var second = await RawAssociation.OpenAsync(view.Server.EndPoint);
        await using var limited = await view.StreamAsync("?limit=1");
        await using var filtered = await view.StreamAsync($"?destination=:{echo.Port}");

        var one = (await limited.NextAsync())!.Value.Data;
        Assert.Equal((2, 1), (one.GetProperty("total").GetInt32(), one.GetProperty("associations").GetArrayLength()));
        Assert.Equal(first.Relay.ToString(), one.GetProperty("associations")[0].GetProperty("relay").GetString());
        Assert.Equal(0, (await filtered.NextAsync())!.Value.Data.GetProperty("total").GetInt32());

        // The second association gains a destination that matches: it enters the filtered stream.
        await second.SendToAsync(echo.EndPoint, "e"u8.ToArray());
        await second.ReceiveAsync();
        var entered = await filtered.UntilAsync((_, data) => Upserted(data).Any());
        Assert.Equal(second.Relay.ToString(), Assert.Single(Upserted(entered.Data)).GetProperty("relay").GetString());

        // The first leaves: the limited stream shows the second in its place.
        await first.DisposeAsync();
        var shifted = await limited.UntilAsync((_, data) => data.GetProperty("removed").GetArrayLength() > 0);
        Assert.Equal(second.Relay.ToString(), Assert.Single(Upserted(shifted.Data)).GetProperty("relay").GetString());
    }

    [Fact]
    public async Task Streams_PastMaxStreams_Are503_AndAStreamThatLeavesFreesItsPlace()
    {
        await using var view = await FlowViewServer.StartAsync(new Dictionary<string, string?> { ["Admin:MaxStreams"] = "1" });
        var events = await view.StreamAsync();
        Assert.Equal("snapshot", (await events.NextAsync())!.Value.Name);
        using (var refused = await view.Client.GetAsync("flows/stream", TestTimeout.Token))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("Admin:MaxStreams", await refused.Content.ReadAsStringAsync(TestTimeout.Token));
        }

        await events.DisposeAsync();
        await Eventually.TrueAsync(() => view.Feed.Streams == 0);
        await using var again = await view.StreamAsync();
        Assert.Equal("snapshot", (await again.NextAsync())!.Value.Name);
    }

    [Fact]
    public async Task ServerStop_EndsTheStream()
    {
        var view = await FlowViewServer.StartAsync();
        await using var events = await view.StreamAsync();
        Assert.Equal("snapshot", (await events.NextAsync())!.Value.Name);
        await view.DisposeAsync();
        var ended = await Assert.ThrowsAsync<InvalidOperationException>(() => events.UntilAsync((_, _) => false));
        Assert.Equal("the stream ended", ended.Message);
    }

    private static IEnumerable<JsonElement> Upserted(JsonElement data) => data.TryGetProperty("upserted", out var u) ? u.EnumerateArray() : [];

    private static IEnumerable<JsonElement> Destinations(JsonElement association) => association.GetProperty("destinations").EnumerateArray();
}
