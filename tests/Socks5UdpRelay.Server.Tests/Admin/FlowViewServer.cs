using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Socks5UdpRelay.Server.Admin;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Admin;

/// <summary>The real server on loopback with its HTTP endpoint and the flow view on, and HTTP clients with and without the token.</summary>
internal sealed class FlowViewServer : IAsyncDisposable
{
    public const string Token = "flow-view-test-token-0123456789";

    private FlowViewServer(RelayServer server)
    {
        Server = server;
        Http = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        Client = NewClient(Token);
        Anonymous = NewClient(null);
    }

    public RelayServer Server { get; }

    /// <summary>The HTTP endpoint.</summary>
    public IPEndPoint Http { get; }

    /// <summary>Sends the token.</summary>
    public HttpClient Client { get; }

    /// <summary>Sends no Authorization header.</summary>
    public HttpClient Anonymous { get; }

    public FlowFeed Feed => Server.Services.GetRequiredService<FlowFeed>();

    public static async Task<FlowViewServer> StartAsync(IDictionary<string, string?>? settings = null, string listen = "127.0.0.1:0", TimeProvider? time = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Metrics:Enabled"] = "true",
            ["Metrics:Listen"] = "127.0.0.1:0",
            ["Admin:Token"] = Token,
            ["Admin:StreamInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return new FlowViewServer(await RelayServer.StartAsync(all, time: time, listen: listen));
    }

    public HttpClient NewClient(string? token, string scheme = "Bearer")
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://{Http}/"), Timeout = TestTimeout.Default };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, token);
        }

        return client;
    }

    /// <summary><c>GET /flows</c> with <paramref name="query"/>, expecting 200 and JSON.</summary>
    public async Task<JsonElement> FlowsAsync(string query = "")
    {
        using var response = await Client.GetAsync("flows" + query, TestTimeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestTimeout.Token)).RootElement.Clone();
    }

    /// <summary>The associations of one <c>/flows</c> page.</summary>
    public async Task<List<JsonElement>> AssociationsAsync(string query = "") => [.. (await FlowsAsync(query)).GetProperty("associations").EnumerateArray()];

    public async Task<ServerSentEvents> StreamAsync(string query = "")
    {
        var response = await Client.GetAsync("flows/stream" + query, HttpCompletionOption.ResponseHeadersRead, TestTimeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new ServerSentEvents(response, await response.Content.ReadAsStreamAsync(TestTimeout.Token));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await Server.DisposeAsync();
    }
}
