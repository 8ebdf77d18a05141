using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>
/// The project's server, in process, on 127.0.0.1 and a free port, built as its Program builds
/// it, with a resolver the test controls (no name reaches the system resolver).
/// </summary>
internal sealed class RelayServer : IAsyncDisposable
{
    private readonly IHost _host;

    private RelayServer(IHost host)
    {
        _host = host;
        EndPoint = host.Services.GetRequiredService<IRelayEndpoints>().ListenEndpoints[0];
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>What --proxy takes.</summary>
    public string Proxy => EndPoint.ToString();

    public static async Task<RelayServer> StartAsync(FakeResolver? resolver = null, IDictionary<string, string?>? settings = null)
    {
        var builder = RelayHost.CreateBuilder([]);
        var all = new Dictionary<string, string?> { ["Relay:Listen:0"] = "127.0.0.1:0" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(all);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IDestinationResolver>(resolver ?? new FakeResolver().Map("localhost", IPAddress.Loopback));
        var host = builder.Build();
        await host.StartAsync(TestTimeout.Token);
        return new RelayServer(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TestTimeout.Token);
        _host.Dispose();
    }
}
