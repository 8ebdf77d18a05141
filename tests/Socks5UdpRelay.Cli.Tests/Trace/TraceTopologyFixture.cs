using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Trace;

/// <summary>
/// The server tests' five-namespace chain (client ─ relay ─ router1 ═ router2 ─ target), with ICMP
/// rate limits off in the routers and the target unless asked, and our server in the relay
/// namespace on <c>10.201.1.1:1080</c> and <c>[fd00:201:1::1]:1080</c> for the client's addresses.
/// <c>s5nc trace</c> runs as its own process in the client namespace; Debian's traceroute, for
/// comparison, in the relay namespace. Nothing is built where the tests would skip.
/// </summary>
public class TraceTopologyFixture : IAsyncLifetime
{
    public const int ProxyPort = 1080;

    /// <summary>Debian's traceroute itself, not whatever the alternatives link points at.</summary>
    public const string TraceroutePath = "/usr/bin/traceroute.db";

    /// <summary>A port nothing listens on in the target namespace.</summary>
    public const int ClosedPort = 41234;

    private NetnsTopology? _topology;

    public NetnsTopology Topology => _topology ?? throw new InvalidOperationException($"No topology: {Requirements.NetworkNamespacesMissing ?? "it was not built"}.");

    protected virtual NetnsTopologyOptions Options => new();

    public async Task InitializeAsync()
    {
        if (Requirements.NetworkNamespacesSkipReason is not null)
        {
            return;
        }

        _topology = NetnsTopology.Create(Options);
        var dll = Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll");
        var server = _topology.StartDotNet(_topology.RelayNamespace, dll,
        [
            $"--Relay:Listen:0={_topology.Relay.V4}:{ProxyPort}",
            $"--Relay:Listen:1=[{_topology.Relay.V6}]:{ProxyPort}",
            $"--Policy:AllowClients:0={_topology.Client.V4}/32",
            $"--Policy:AllowClients:1={_topology.Client.V6}/128",
        ]);
        await server.WaitForOutputAsync($"Listening for SOCKS5 on {_topology.Relay.V4}:{ProxyPort}");
        await server.WaitForOutputAsync($"Listening for SOCKS5 on [{_topology.Relay.V6}]:{ProxyPort}");
    }

    /// <summary>The proxy as --proxy takes it, reached over IPv4 or IPv6.</summary>
    public string Proxy(bool v6) => v6 ? $"[{Topology.Relay.V6}]:{ProxyPort}" : $"{Topology.Relay.V4}:{ProxyPort}";

    /// <summary>Runs <c>s5nc trace …</c> in the client namespace as a process of its own: its exit code and its output (stdout and stderr by line).</summary>
    public async Task<(int ExitCode, string Output)> TraceAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "s5nc.dll");
        await using var trace = Topology.StartDotNet(Topology.ClientNamespace, dll, ["trace", .. args],
            new Dictionary<string, string?> { ["SOCKS5_PROXY"] = null, ["SOCKS5_PASSWORD"] = null });
        int exit = await trace.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, trace.Output);
    }

    /// <summary>Debian's traceroute, unmodified, in the relay namespace: the proxy's own view of the path.</summary>
    public string Traceroute(params string[] args)
    {
        Assert.True(File.Exists(TraceroutePath), $"{TraceroutePath} is missing: apt-get install traceroute (.ci/run installs it).");
        return Topology.Exec(Topology.RelayNamespace, [TraceroutePath, .. args]);
    }

    public Task DisposeAsync()
    {
        // Kills the server too.
        _topology?.Dispose();
        return Task.CompletedTask;
    }
}
