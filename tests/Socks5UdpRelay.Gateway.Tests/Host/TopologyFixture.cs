using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Gateway.Tests.Host;

/// <summary>One namespace topology per test class, built on first use (so a class whose tests all skip builds nothing).</summary>
public sealed class TopologyFixture : IDisposable
{
    private readonly Lazy<NetnsTopology> _topology = new(() => NetnsTopology.Create());

    public NetnsTopology Topology => _topology.Value;

    public void Dispose()
    {
        if (_topology.IsValueCreated)
        {
            _topology.Value.Dispose();
        }
    }
}
