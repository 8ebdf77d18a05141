using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// One <see cref="NetnsTopology"/> per test class (<c>IClassFixture&lt;TopologyFixture&gt;</c>), with a UDP
/// echo server on the target. Tests call <see cref="ResetRules"/> first and take fresh ports from
/// <see cref="NextPort"/>, so no test sees another's rules or errors. Where the tests would skip,
/// nothing is built; under <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c> building fails loudly instead.
/// </summary>
public sealed class TopologyFixture : IAsyncLifetime
{
    /// <summary>The echo port on the target (RFC 862).</summary>
    public const int EchoPort = 7;

    private NetnsTopology? _topology;
    private UdpResponder? _echo;
    private int _nextPort = 40_000;

    public NetnsTopology Topology =>
        _topology ?? throw new InvalidOperationException($"No topology: {Requirements.NetworkNamespacesMissing ?? "it was not built"}.");

    public UdpResponder Echo => _echo ?? throw new InvalidOperationException("No echo server: the topology was not built.");

    /// <summary>A port no other test of this fixture uses, so ICMP errors can be told apart.</summary>
    public int NextPort() => Interlocked.Increment(ref _nextPort);

    /// <summary>Removes every firewall rule from the routers and the target.</summary>
    public void ResetRules()
    {
        foreach (var ns in new[] { Topology.Router1Namespace, Topology.Router2Namespace, Topology.TargetNamespace })
        {
            Topology.ClearRules(ns);
        }
    }

    public Task InitializeAsync()
    {
        if (Requirements.NetworkNamespacesSkipReason is not null)
        {
            return Task.CompletedTask;
        }

        _topology = NetnsTopology.Create();
        _echo = UdpResponder.EchoIn(_topology, _topology.TargetNamespace, EchoPort);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_echo is not null)
        {
            await _echo.DisposeAsync();
        }

        _topology?.Dispose();
    }
}
