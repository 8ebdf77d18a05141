using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Tests.Hosting;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Admin;

/// <summary>
/// The token rules (README, "Flow view"): every data and action route asks for the bearer token,
/// from loopback too; without a token configured the routes do not exist; the token is never
/// logged; <c>/metrics</c> and <c>/healthz</c> stay open as before.
/// </summary>
public sealed class FlowAuthTests
{
    [Theory]
    [InlineData("GET", "flows")]
    [InlineData("GET", "flows/stream")]
    [InlineData("GET", "flows/1")]
    [InlineData("DELETE", "flows/1")]
    public async Task EveryDataRoute_WithoutToken_Is401WithABearerChallenge(string method, string path)
    {
        await using var view = await FlowViewServer.StartAsync();
        using var response = await view.Anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestTimeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer realm=\"flows\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [InlineData("Bearer", "flow-view-test-token-012345678")] // one character short
    [InlineData("Bearer", "flow-view-test-token-0123456789x")]
    [InlineData("Bearer", "FLOW-VIEW-TEST-TOKEN-0123456789")]
    [InlineData("Basic", FlowViewServer.Token)]
    [InlineData("Token", FlowViewServer.Token)]
    public async Task AWrongTokenOrScheme_Is401InvalidToken_AndEndsNothing(string scheme, string token)
    {
        await using var view = await FlowViewServer.StartAsync();
        await using var association = await RawAssociation.OpenAsync(view.Server.EndPoint);
        using var client = view.NewClient(token, scheme);
        foreach (var request in new[] { new HttpRequestMessage(HttpMethod.Get, "flows"), new HttpRequestMessage(HttpMethod.Delete, "flows/1") })
        {
            using var response = await client.SendAsync(request, TestTimeout.Token);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer realm=\"flows\", error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        }

        Assert.Equal(1, view.Server.Endpoints.OpenAssociations);
        Assert.Single(await view.AssociationsAsync()); // the right token still works
    }

    [Fact]
    public async Task TheProxy_DoesNotCarryAClientToTheFlowView()
    {
        await using var view = await FlowViewServer.StartAsync();
        await using var raw = await RawSocks.ConnectAsync(view.Server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        Assert.Equal(new byte[] { 0x05, 0x00 }, await raw.ReadAsync(2));
        int port = view.Http.Port;
        await raw.SendAsync(0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, (byte)(port >> 8), (byte)port); // CONNECT 127.0.0.1:port
        Assert.Equal(new byte[] { 0x05, 0x02 }, await raw.ReadAsync(2)); // connection not allowed by ruleset
    }

    [Fact]
    public async Task TheSchemeIsCaseInsensitive()
    {
        await using var view = await FlowViewServer.StartAsync();
        using var client = view.NewClient(FlowViewServer.Token, "bearer");
        using var response = await client.GetAsync("flows", TestTimeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task WithoutAToken_TheFlowViewIsOff_MetricsAndHealthzAreNot()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" });
        var endpoint = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        foreach (string path in new[] { "/", "/flows", "/flows/stream", "/static/flows.js" })
        {
            Assert.StartsWith("HTTP/1.1 404", await RawHttp.GetAsync(endpoint, path));
        }

        Assert.StartsWith("HTTP/1.1 200 OK", await RawHttp.GetAsync(endpoint, "/metrics"));
        Assert.DoesNotContain(server.Logs.Events, e => e.Message.StartsWith("Flow view on http://", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MetricsAndHealthz_StayOpenWithoutTheToken_WhenTheFlowViewIsOn()
    {
        await using var view = await FlowViewServer.StartAsync();
        Assert.StartsWith("HTTP/1.1 200 OK", await RawHttp.GetAsync(view.Http, "/metrics"));
        Assert.StartsWith("HTTP/1.1 200 OK", await RawHttp.GetAsync(view.Http, "/healthz"));
        Assert.StartsWith("HTTP/1.1 404", await RawHttp.GetAsync(view.Http, "/admin"));
        Assert.Contains(view.Server.Logs.Events, e => e.Message.StartsWith("Flow view on http://", StringComparison.Ordinal) && e.Message.Contains($"http://{view.Http}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheTokenMayComeFromAFile()
    {
        string file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "from-a-file-0123456789abcdef\nignored second line\n");
            await using var view = await FlowViewServer.StartAsync(new Dictionary<string, string?> { ["Admin:Token"] = null, ["Admin:TokenFile"] = file });
            using var right = view.NewClient("from-a-file-0123456789abcdef");
            Assert.Equal(HttpStatusCode.OK, (await right.GetAsync("flows", TestTimeout.Token)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await view.Client.GetAsync("flows", TestTimeout.Token)).StatusCode);
            Assert.Contains(view.Server.Logs.Events, e => e.Message.StartsWith("Flow view on http://", StringComparison.Ordinal) && e.Message.Contains($"from {file}", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task NeitherTheTokenNorAGuess_IsEverLogged()
    {
        const string Guess = "a-guess-that-is-long-enough-42";
        await using var view = await FlowViewServer.StartAsync();
        await using var association = await RawAssociation.OpenAsync(view.Server.EndPoint);
        using var guessing = view.NewClient(Guess);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await guessing.GetAsync("flows", TestTimeout.Token)).StatusCode);
        }

        long id = (await view.AssociationsAsync()).Single().GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await view.Client.DeleteAsync($"flows/{id}", TestTimeout.Token)).StatusCode);
        Assert.Equal("CLOSING reason=admin", await association.Control.ReadLineAsync());

        var events = view.Server.Logs.Events;
        Assert.Contains(events, e => e.Message.StartsWith("Flow view: refused", StringComparison.Ordinal) && e.Message.Contains("wrong token", StringComparison.Ordinal) && e.Message.Contains("127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Message.Contains("ended by an operator", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Message.Contains(FlowViewServer.Token, StringComparison.Ordinal) || e.Message.Contains(Guess, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refusals_AreLoggedInABurst_ThenOneASecondWithTheCountNotLogged()
    {
        var time = new ManualTimeProvider();
        await using var view = await FlowViewServer.StartAsync(time: time);
        for (int i = 0; i < 15; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await view.Anonymous.GetAsync("flows", TestTimeout.Token)).StatusCode);
        }

        Assert.Equal(10, view.Server.Logs.Events.Count(e => e.Message.StartsWith("Flow view: refused", StringComparison.Ordinal)));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await view.Anonymous.GetAsync("flows", TestTimeout.Token)).StatusCode);
        var last = view.Server.Logs.Events.Last(e => e.Message.StartsWith("Flow view: refused", StringComparison.Ordinal));
        Assert.Contains("(5 more refusals not logged", last.Message);
    }
}
