using System.Net;
using System.Text.Json;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Admin;

/// <summary><c>GET /flows</c>, <c>GET /flows/{id}</c> and <c>DELETE /flows/{id}</c> against the real server on loopback: shapes, filters, paging, ending.</summary>
public sealed class FlowApiTests
{
    [Fact]
    public async Task Flows_ShowEachAssociationWithItsDestinationsTrafficAndLastError()
    {
        await using var view = await FlowViewServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(view.Server.EndPoint);
        for (int i = 0; i < 3; i++)
        {
            await association.SendToAsync(echo.EndPoint, "ping"u8.ToArray());
            await association.ReceiveAsync();
        }

        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await association.SendToAsync(closed, "x"u8.ToArray());
        Assert.StartsWith("UDP-ERROR", await association.Control.ReadLineAsync());

        var page = await view.FlowsAsync();
        Assert.Equal(1, page.GetProperty("count").GetInt32());
        Assert.Equal(JsonValueKind.Null, page.GetProperty("next").ValueKind);
        Assert.True(DateTimeOffset.TryParse(page.GetProperty("at").GetString(), out _));
        var a = Assert.Single(page.GetProperty("associations").EnumerateArray());
        Assert.True(a.GetProperty("id").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, a.GetProperty("user").ValueKind);
        Assert.Equal(association.Control.Control.LocalEndPoint!.ToString(), a.GetProperty("controlPeer").GetString());
        Assert.Equal(association.Udp.LocalEndPoint!.ToString(), a.GetProperty("clientUdp").GetString());
        Assert.Equal(association.Relay.ToString(), a.GetProperty("relay").GetString());
        Assert.True(a.GetProperty("outboundPort").GetInt32() > 0);
        Assert.Equal("udp", a.GetProperty("mode").GetString());
        Assert.Equal("address-dependent", a.GetProperty("filtering").GetString());
        Assert.InRange(a.GetProperty("ageSeconds").GetDouble(), 0, 60);
        Assert.InRange(a.GetProperty("idleLeftSeconds").GetDouble(), 540, 600); // Relay:AssociationIdleTimeout 00:10:00
        Assert.Equal((4, 13), Traffic(a, "fromClient")); // 3 × "ping" + "x"
        Assert.Equal((3, 12), Traffic(a, "toClient"));
        Assert.Equal(0, a.GetProperty("inboundRelayed").GetInt64());
        Assert.Empty(a.GetProperty("drops").EnumerateObject());
        var mapping = Assert.Single(a.GetProperty("mappings").EnumerateArray());
        Assert.Equal((0, a.GetProperty("outboundPort").GetInt32(), 2), (mapping.GetProperty("map").GetInt32(), mapping.GetProperty("outboundPort").GetInt32(), mapping.GetProperty("destinations").GetInt32()));

        var destinations = a.GetProperty("destinations").EnumerateArray().ToList();
        Assert.Equal(2, destinations.Count);
        var toEcho = destinations.Single(d => d.GetProperty("address").GetString() == echo.EndPoint.ToString());
        Assert.Equal(echo.EndPoint.ToString(), toEcho.GetProperty("destination").GetString());
        Assert.Equal(JsonValueKind.Null, toEcho.GetProperty("ttl").ValueKind);
        Assert.Equal((3, 12), Traffic(toEcho, "sent"));
        Assert.Equal((3, 12), Traffic(toEcho, "received"));
        Assert.InRange(toEcho.GetProperty("lastSeenSeconds").GetDouble(), 0, 60);
        Assert.Equal(JsonValueKind.Null, toEcho.GetProperty("lastError").ValueKind);

        var toClosed = destinations.Single(d => d.GetProperty("address").GetString() == closed.ToString());
        Assert.Equal((1, 1), Traffic(toClosed, "sent"));
        var error = toClosed.GetProperty("lastError");
        Assert.Equal("port-unreachable", error.GetProperty("kind").GetString());
        Assert.Equal("ECONNREFUSED", error.GetProperty("errno").GetString());
        Assert.Equal("3/3", error.GetProperty("icmp").GetString());
        Assert.Equal("127.0.0.1", error.GetProperty("from").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("mtu").ValueKind);
        Assert.InRange(error.GetProperty("agoSeconds").GetDouble(), 0, 60);
        Assert.Equal(1, error.GetProperty("count").GetInt64());

        // The same association alone, by id.
        using var one = await view.Client.GetAsync($"flows/{a.GetProperty("id").GetInt64()}", TestTimeout.Token);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var alone = JsonDocument.Parse(await one.Content.ReadAsStringAsync(TestTimeout.Token)).RootElement;
        Assert.Equal(a.GetProperty("relay").GetString(), alone.GetProperty("relay").GetString());
        Assert.Equal(2, alone.GetProperty("destinations").GetArrayLength());
    }

    [Fact]
    public async Task Flows_ByUserAndDestination()
    {
        string hash = PasswordHash.Create("secret-pw", iterations: 10_000);
        await using var view = await FlowViewServer.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Users:0:Name"] = "alice", ["Auth:Users:0:PasswordHash"] = hash,
            ["Auth:Users:1:Name"] = "bob", ["Auth:Users:1:PasswordHash"] = hash,
        });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var other = UdpResponder.Echo(IPAddress.Loopback);
        await using var alice = await OpenAsync(view, "alice", echo.EndPoint);
        await using var bob = await OpenAsync(view, "bob", other.EndPoint);

        Assert.Equal(["alice", "bob"], (await view.AssociationsAsync()).Select(a => a.GetProperty("user").GetString()));
        Assert.Equal(["alice"], (await view.AssociationsAsync("?user=alice")).Select(a => a.GetProperty("user").GetString()));
        Assert.Empty(await view.AssociationsAsync("?user=Alice")); // names are exact
        Assert.Equal(["bob"], (await view.AssociationsAsync($"?destination=:{other.Port}")).Select(a => a.GetProperty("user").GetString()));
        Assert.Equal(["alice"], (await view.AssociationsAsync($"?destination=127.0.0.1:{echo.Port}&user=alice")).Select(a => a.GetProperty("user").GetString()));
        Assert.Empty(await view.AssociationsAsync($"?destination=127.0.0.1:{echo.Port}&user=bob"));
    }

    [Fact]
    public async Task Flows_ByClientAddress_OrNetwork()
    {
        await using var view = await FlowViewServer.StartAsync(new Dictionary<string, string?> { ["Relay:Listen:1"] = "[::1]:0" });
        var listeners = view.Server.Endpoints.ListenEndpoints;
        await using var v4 = await RawAssociation.OpenAsync(listeners.Single(e => e.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork));
        await using var v6 = await RawAssociation.OpenAsync(listeners.Single(e => e.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6));

        Assert.Equal(2, (await view.AssociationsAsync()).Count);
        Assert.Equal([v6.Relay.ToString()], (await view.AssociationsAsync("?client=::1")).Select(a => a.GetProperty("relay").GetString()));
        Assert.Equal([v4.Relay.ToString()], (await view.AssociationsAsync("?client=127.0.0.0/8")).Select(a => a.GetProperty("relay").GetString()));
        Assert.Empty(await view.AssociationsAsync("?client=127.0.0.2"));
    }

    [Fact]
    public async Task Flows_PageInIdOrder_FollowingNext()
    {
        await using var view = await FlowViewServer.StartAsync();
        var associations = new List<RawAssociation>();
        try
        {
            for (int i = 0; i < 5; i++)
            {
                associations.Add(await RawAssociation.OpenAsync(view.Server.EndPoint));
            }

            var all = (await view.AssociationsAsync()).Select(a => a.GetProperty("id").GetInt64()).ToList();
            Assert.Equal(5, all.Count);
            Assert.Equal(all.Order(), all);

            var seen = new List<long>();
            string query = "?limit=2";
            for (int pages = 1; ; pages++)
            {
                var page = await view.FlowsAsync(query);
                seen.AddRange(page.GetProperty("associations").EnumerateArray().Select(a => a.GetProperty("id").GetInt64()));
                if (page.GetProperty("next").ValueKind == JsonValueKind.Null)
                {
                    Assert.Equal(3, pages);
                    Assert.Equal(1, page.GetProperty("count").GetInt32());
                    break;
                }

                Assert.Equal(2, page.GetProperty("count").GetInt32());
                query = $"?limit=2&after={page.GetProperty("next").GetInt64()}";
            }

            Assert.Equal(all, seen);
        }
        finally
        {
            foreach (var a in associations)
            {
                await a.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Flows_MaxPageSize_BoundsWhatAPageHolds()
    {
        await using var view = await FlowViewServer.StartAsync(new Dictionary<string, string?> { ["Admin:MaxPageSize"] = "1" });
        await using var first = await RawAssociation.OpenAsync(view.Server.EndPoint);
        await using var second = await RawAssociation.OpenAsync(view.Server.EndPoint);
        var page = await view.FlowsAsync();
        Assert.Equal(1, page.GetProperty("count").GetInt32());
        Assert.Equal(JsonValueKind.Number, page.GetProperty("next").ValueKind);
        using var tooMany = await view.Client.GetAsync("flows?limit=2", TestTimeout.Token);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
    }

    [Theory]
    [InlineData("?limit=0", "limit='0': give 1 to 1000")]
    [InlineData("?limit=1001", "limit='1001'")]
    [InlineData("?limit=-1", "limit='-1'")]
    [InlineData("?after=x", "after='x'")]
    [InlineData("?client=example.test", "client='example.test': give an address or a CIDR")]
    [InlineData("?client=10.0.0.1/8", "client='10.0.0.1/8'")]
    [InlineData("?user=a&user=b", "'user' given twice")]
    [InlineData("?sort=id", "unknown parameter 'sort'")]
    public async Task Flows_BadQuery_Is400WithTheReason(string query, string reason)
    {
        await using var view = await FlowViewServer.StartAsync();
        foreach (string path in new[] { "flows", "flows/stream" })
        {
            using var response = await view.Client.GetAsync(path + query, TestTimeout.Token);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(reason, await response.Content.ReadAsStringAsync(TestTimeout.Token));
        }
    }

    [Fact]
    public async Task Delete_EndsTheAssociation_ItsClientReadsClosingAdmin()
    {
        await using var view = await FlowViewServer.StartAsync();
        await using var association = await RawAssociation.OpenAsync(view.Server.EndPoint);
        await using var bystander = await RawAssociation.OpenAsync(view.Server.EndPoint);
        long id = (await view.AssociationsAsync()).First().GetProperty("id").GetInt64();

        using var ended = await view.Client.DeleteAsync($"flows/{id}", TestTimeout.Token);
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        var body = JsonDocument.Parse(await ended.Content.ReadAsStringAsync(TestTimeout.Token)).RootElement;
        Assert.Equal((id, true), (body.GetProperty("id").GetInt64(), body.GetProperty("ending").GetBoolean()));
        Assert.Equal("CLOSING reason=admin", await association.Control.ReadLineAsync());
        Assert.Null(await association.Control.ReadLineAsync()); // then the server closes the connection

        await Eventually.TrueAsync(() => view.Server.Endpoints.OpenAssociations == 1);
        Assert.Equal([bystander.Relay.ToString()], (await view.AssociationsAsync()).Select(a => a.GetProperty("relay").GetString()));
        using var again = await view.Client.DeleteAsync($"flows/{id}", TestTimeout.Token);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        using var gone = await view.Client.GetAsync($"flows/{id}", TestTimeout.Token);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains(view.Server.Logs.Events, e => e.Message.Contains("ended by an operator", StringComparison.Ordinal) && e.Message.Contains($"Association {id} ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("PUT", "flows/1", HttpStatusCode.MethodNotAllowed)]
    [InlineData("POST", "flows", HttpStatusCode.MethodNotAllowed)]
    [InlineData("DELETE", "flows", HttpStatusCode.MethodNotAllowed)]
    [InlineData("DELETE", "flows/stream", HttpStatusCode.MethodNotAllowed)]
    [InlineData("DELETE", "flows/abc", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "flows/99999", HttpStatusCode.NotFound)]
    [InlineData("GET", "flows/1/more", HttpStatusCode.NotFound)]
    [InlineData("POST", "", HttpStatusCode.MethodNotAllowed)]
    [InlineData("GET", "static/nothing.js", HttpStatusCode.NotFound)]
    public async Task OtherMethodsAndPaths_AreAnsweredPlainly(string method, string path, HttpStatusCode expected)
    {
        await using var view = await FlowViewServer.StartAsync();
        using var response = await view.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestTimeout.Token);
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.MethodNotAllowed)
        {
            Assert.NotEmpty(response.Content.Headers.Allow);
        }
    }

    [Fact]
    public async Task Page_ItsScriptAndStyle_AreServedFromTheAssembly_WithAStrictPolicy()
    {
        await using var view = await FlowViewServer.StartAsync();
        using var page = await view.Anonymous.GetAsync("", TestTimeout.Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync(TestTimeout.Token);
        Assert.Contains("<script src=\"/static/flows.js\" defer></script>", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html); // nothing from elsewhere
        string policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("script-src 'self'", policy);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());

        foreach (var (path, type) in new[] { ("static/flows.js", "text/javascript"), ("static/flows.css", "text/css") })
        {
            using var asset = await view.Anonymous.GetAsync(path, TestTimeout.Token);
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
            Assert.True((await asset.Content.ReadAsByteArrayAsync(TestTimeout.Token)).Length > 500);
        }
    }

    private static (long Datagrams, long Bytes) Traffic(JsonElement e, string name)
        => (e.GetProperty(name).GetProperty("datagrams").GetInt64(), e.GetProperty(name).GetProperty("bytes").GetInt64());

    private static async Task<Socks5UdpAssociation> OpenAsync(FlowViewServer view, string user, IPEndPoint echo)
    {
        var association = await Socks5UdpAssociation.OpenAsync(
            new Socks5ProxyOptions { Host = "127.0.0.1", Port = view.Server.EndPoint.Port, Credentials = new NetworkCredential(user, "secret-pw") }, TestTimeout.Token);
        await association.SendAsync(echo, "hello"u8.ToArray(), TestTimeout.Token);
        Assert.Equal(5, (await association.ReceiveAsync(new byte[16], TestTimeout.Token)).Length);
        return association;
    }
}
