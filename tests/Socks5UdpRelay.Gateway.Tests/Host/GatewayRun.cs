using System.Net;
using Socks5UdpRelay.Gateway.Tests.Fakes;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Gateway.Tests.Host;

/// <summary>
/// A gateway started (and later disposed) in a topology's client namespace, with a fake uplink.
/// Dispose asserts that the namespace's links, rules, routes and nftables ruleset are exactly as
/// they were before the start.
/// </summary>
internal sealed class GatewayRun : IDisposable
{
    public static readonly IPNetwork[] DefaultRoutes = [IPNetwork.Parse("10.203.0.0/16"), IPNetwork.Parse("fd00:203::/48")];

    private readonly NetnsTopology _topology;
    private readonly string _before;

    private GatewayRun(NetnsTopology topology, TunGateway gateway, FakeUplink uplink, string before)
    {
        _topology = topology;
        Gateway = gateway;
        Uplink = uplink;
        _before = before;
    }

    public TunGateway Gateway { get; }

    public FakeUplink Uplink { get; }

    public string Namespace => _topology.ClientNamespace;

    /// <summary>Sets the namespace's rp_filter (all and default, so the new device inherits it), then starts the gateway there.</summary>
    /// <param name="expectedAfterDispose">The state dispose must leave; by default the state just before the start.</param>
    public static GatewayRun Start(NetnsTopology topology, int rpFilter, FakeUplink.Behaviour? behaviour = null, TunGatewayOptions? options = null, string? expectedAfterDispose = null)
    {
        var ns = topology.ClientNamespace;
        topology.Exec(ns, "sysctl", "-q", "-w", $"net.ipv4.conf.all.rp_filter={rpFilter}", $"net.ipv4.conf.default.rp_filter={rpFilter}");
        var before = expectedAfterDispose ?? HostState(topology);
        var uplink = new FakeUplink { OnSend = behaviour ?? FakeUplink.Echo };
        var gateway = NamespaceThread.Run(ns, () =>
        {
            var started = TunGateway.Start(options ?? new TunGatewayOptions { Routes = DefaultRoutes });
            uplink.Gateway = started;
            started.Run(uplink);
            return started;
        });
        return new GatewayRun(topology, gateway, uplink, before);
    }

    /// <summary>Everything the gateway may touch in the namespace, as text.</summary>
    public static string HostState(NetnsTopology topology)
    {
        var ns = topology.ClientNamespace;
        return string.Join("\n---\n",
            topology.Exec(ns, "ip", "-o", "link", "show"),
            topology.Exec(ns, "ip", "-4", "rule", "show"),
            topology.Exec(ns, "ip", "-6", "rule", "show"),
            topology.Exec(ns, "ip", "-4", "route", "show", "table", "all"),
            topology.Exec(ns, "ip", "-6", "route", "show", "table", "all"),
            topology.Exec(ns, "nft", "list", "ruleset"));
    }

    /// <summary>The namespace's IPReversePathFilter counter (TcpExt in /proc/net/netstat): packets the reverse-path check dropped.</summary>
    public long ReversePathDrops()
    {
        var lines = _topology.Exec(Namespace, "cat", "/proc/net/netstat").Split('\n');
        for (int i = 0; i + 1 < lines.Length; i += 2)
        {
            var names = lines[i].Split(' ');
            var values = lines[i + 1].Split(' ');
            int index = Array.IndexOf(names, "IPReversePathFilter");
            if (names[0] == "TcpExt:" && index > 0)
            {
                return long.Parse(values[index], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("No IPReversePathFilter counter in /proc/net/netstat.");
    }

    public void Dispose()
    {
        NamespaceThread.Run(Namespace, Gateway.Dispose);
        Assert.True(Gateway.Completion.Wait(TestTimeout.Default));
        Assert.Equal(_before, HostState(_topology));
    }
}
