using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// One <see cref="NetnsTopology"/> per test class with the real server running inside the relay
/// namespace (out of process, <c>dotnet Socks5UdpRelay.Server.dll</c>), listening on the relay's
/// client-facing address, an echo server on the target, and a hosts file in the relay namespace
/// naming the target (<see cref="TargetName"/>, <see cref="Target6Name"/>). Notices are not
/// rate-limited here (burst and rate 1000), so every error a test provokes is told. Tests call
/// <see cref="ResetRules"/> first, take fresh ports from <see cref="NextPort"/> and open an
/// association of their own, so none sees another's rules, errors or notices.
/// Where the tests would skip nothing is built; under <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c> building
/// fails loudly instead.
/// </summary>
public partial class RelayTopologyFixture : IAsyncLifetime
{
    /// <summary>The echo port on the target (RFC 862).</summary>
    public const int EchoPort = 7;

    /// <summary>A name the relay's hosts file maps to the target's IPv4 address only.</summary>
    public const string TargetName = "target.test";

    /// <summary>A name the relay's hosts file maps to the target's IPv6 address only.</summary>
    public const string Target6Name = "target6.test";

    private readonly IReadOnlyList<string> _extraArguments;
    private readonly string _expectedErrorQueueMode;
    private NetnsTopology? _topology;
    private UdpResponder? _echo;
    private NetnsProcess? _server;
    private int _nextPort = 41_000;

    public RelayTopologyFixture()
        : this([], "kernel error queue (IP_RECVERR)")
    {
    }

    /// <summary>
    /// For fixtures that run the server with more settings (command-line <c>--Key=value</c>);
    /// <paramref name="expectedErrorQueueMode"/> is what the server must log after "ICMP error details: ".
    /// </summary>
    protected RelayTopologyFixture(IReadOnlyList<string> extraArguments, string expectedErrorQueueMode)
    {
        _extraArguments = extraArguments;
        _expectedErrorQueueMode = expectedErrorQueueMode;
    }

    public NetnsTopology Topology =>
        _topology ?? throw new InvalidOperationException($"No topology: {Requirements.NetworkNamespacesMissing ?? "it was not built"}.");

    public UdpResponder Echo => _echo ?? throw new InvalidOperationException("No echo server: the topology was not built.");

    /// <summary>The server process (its output holds the log, for failure messages).</summary>
    public NetnsProcess Server => _server ?? throw new InvalidOperationException("No server: the topology was not built.");

    /// <summary>The SOCKS port the server bound on <see cref="NetnsTopology.Relay"/>'s IPv4 address.</summary>
    public int SocksPort { get; private set; }

    /// <summary>A port no other test of this fixture uses, so errors can be told apart.</summary>
    public int NextPort() => Interlocked.Increment(ref _nextPort);

    /// <summary>Removes every firewall rule from the routers and the target.</summary>
    public void ResetRules()
    {
        foreach (var ns in new[] { Topology.Router1Namespace, Topology.Router2Namespace, Topology.TargetNamespace })
        {
            Topology.ClearRules(ns);
        }
    }

    /// <summary>
    /// Opens an association from the client namespace and reads its first notice, which must be
    /// <c>NOTICES version=1</c>: after that, the channel holds only what the test provokes.
    /// </summary>
    /// <param name="onSocket">Sees each socket the association makes in the client namespace (its UDP socket, for a test that sends on it itself).</param>
    public async Task<Socks5UdpAssociation> OpenAssociationAsync(Action<System.Net.Sockets.Socket>? onSocket = null)
    {
        var topology = Topology;
        var association = await Socks5UdpAssociation.OpenAsync(new Socks5ProxyOptions
        {
            Host = topology.Relay.V4.ToString(),
            Port = SocksPort,
            SocketFactory = (family, type, protocol) =>
            {
                var socket = topology.CreateSocket(topology.ClientNamespace, family, type, protocol);
                onSocket?.Invoke(socket);
                return socket;
            },
        }).WaitAsync(TestTimeout.Default);
        try
        {
            using var timeout = new CancellationTokenSource(TestTimeout.Default);
            var first = await association.Notices.ReadAsync(timeout.Token);
            Assert.Equal("NOTICES version=1 commands=set,map", first.Line);
            return association;
        }
        catch
        {
            await association.DisposeAsync();
            throw;
        }
    }

    public async Task InitializeAsync()
    {
        if (Requirements.NetworkNamespacesSkipReason is not null)
        {
            return;
        }

        _topology = NetnsTopology.Create();
        _echo = UdpResponder.EchoIn(_topology, _topology.TargetNamespace, EchoPort);

        // glibc reads /etc/hosts on every lookup, and `ip netns exec` bind-mounts this file there.
        _topology.WriteHosts(_topology.RelayNamespace, [$"{_topology.Target.V4} {TargetName}", $"{_topology.Target.V6} {Target6Name}"]);

        var dll = Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll");
        _server = _topology.StartDotNet(_topology.RelayNamespace, dll,
        [
            $"--Relay:Listen:0={_topology.Relay.V4}:0",
            $"--Policy:AllowClients:0={_topology.Client.V4}/32",
            "--Relay:NoticeBurst=1000",
            "--Relay:NoticesPerSecond=1000",
            .. _extraArguments,
        ]);
        await _server.WaitForOutputAsync($"ICMP error details: {_expectedErrorQueueMode}");
        await _server.WaitForOutputAsync($"Listening for SOCKS5 on {_topology.Relay.V4}:");
        var match = ListeningRegex().Match(_server.Output);
        SocksPort = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync()
    {
        if (_echo is not null)
        {
            await _echo.DisposeAsync();
        }

        // Kills the server too, and deletes the hosts directory.
        _topology?.Dispose();
    }

    [GeneratedRegex(@"Listening for SOCKS5 on [0-9.]+:([0-9]+)")]
    private static partial Regex ListeningRegex();
}
