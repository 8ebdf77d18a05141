using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Transport;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>
/// The real server, in process, on a loopback ephemeral port, built exactly as Program builds
/// it, with configuration overrides and a resolver and clock the test controls.
/// </summary>
internal sealed class RelayServer : IAsyncDisposable
{
    private readonly IHost _host;

    private RelayServer(IHost host)
    {
        _host = host;
        Endpoints = host.Services.GetRequiredService<IRelayEndpoints>();
    }

    public IRelayEndpoints Endpoints { get; }

    public IPEndPoint EndPoint => Endpoints.ListenEndpoints[0];

    public IServiceProvider Services => _host.Services;

    public LogCapture Logs { get; } = new();

    public static Task<RelayServer> StartAsync(
        IDictionary<string, string?>? settings = null,
        FakeResolver? resolver = null,
        TimeProvider? time = null,
        string listen = "127.0.0.1:0")
    {
        var all = new Dictionary<string, string?> { ["Relay:Listen:0"] = listen };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return StartWithAsync(all, resolver, time);
    }

    public static async Task<RelayServer> StartWithAsync(IDictionary<string, string?> settings, FakeResolver? resolver, TimeProvider? time)
    {
        var builder = RelayHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(settings);
        var capture = new LogCapture();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(capture);
        builder.Services.AddSingleton<IDestinationResolver>(resolver ?? new FakeResolver().Map("localhost", IPAddress.Loopback));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var host = builder.Build();
        await host.StartAsync(TestTimeout.Token);
        var server = new RelayServer(host);
        server.Logs.Adopt(capture);
        return server;
    }

    /// <summary>
    /// Waits (bounded) until whatever was posted to the associations' loops before this call has
    /// run: after a test advances the clock, the idle sweeps it fired have then done their work.
    /// </summary>
    public async Task SettleLoopsAsync()
    {
        foreach (var association in Services.GetRequiredService<AssociationRegistry>().Associations)
        {
            await association.Loop.InvokeAsync(static () => { }).WaitAsync(TestTimeout.Default);
        }
    }

    /// <summary>The server's one association (fails the test unless there is exactly one), to read its counters and state.</summary>
    public UdpAssociation SingleAssociation()
        => Assert.Single(Services.GetRequiredService<AssociationRegistry>().Associations);

    /// <summary>Waits (bounded) until the server holds no association any more.</summary>
    public async Task WaitForNoAssociationsAsync()
    {
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        while (Endpoints.OpenAssociations > 0)
        {
            await Task.Delay(10, cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        await _host.StopAsync(cts.Token);
        _host.Dispose();
    }
}
