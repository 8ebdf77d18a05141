using System.Net;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// The five-namespace chain (client ─ relay ─ router1 ═ 1280-byte link ═ router2 ─ target) set up
/// for <c>s5nc tun</c>: the real server out of process in the relay namespace, a UDP echo on the
/// target's port 7000 (7001 closed), dnsmasq on the target, REJECT rules in router1 for one port per
/// kind of error, and router1 routing back to the client, so that with the relay forwarding
/// (<see cref="SetRelayForwarding"/>) the same programs also run without a proxy, routed directly
/// through the relay. Nothing is built where the tests would skip.
/// </summary>
public class TunLab : IAsyncLifetime
{
    public const int EchoPort = 7000;
    public const int ClosedPort = 7001;
    public const int HostUnreachablePort = 7101;
    public const int NetUnreachablePort = 7102;
    public const int ProhibitedPort = 7103;
    public const int ProtocolUnreachablePort = 7104;

    /// <summary>The server's policy refuses this destination port: <c>UDP-DENIED reason=policy</c>.</summary>
    public const int DeniedPort = 7105;

    public const int ProxyPort = 1080;
    public const string DnsName = "www.tun.test";
    public const string DnsAnswerV4 = "192.0.2.80";
    public const string DnsAnswerV6 = "2001:db8::80";

    /// <summary>What <c>--route</c> takes: the target's subnets, nothing else.</summary>
    public static readonly string[] Routes = ["10.201.4.0/24", "fd00:201:4::/64"];

    private NetnsTopology? _topology;
    private UdpResponder? _echo;
    private readonly List<IAsyncDisposable> _owned = [];

    public NetnsTopology Topology => _topology ?? throw new InvalidOperationException($"No topology: {Requirements.NetworkNamespacesMissing ?? "it was not built"}.");

    /// <summary>The proxy as <c>--proxy</c> takes it.</summary>
    public string Proxy => $"{Topology.Relay.V4}:{ProxyPort}";

    /// <summary>The server in the relay namespace (its log, for failure messages).</summary>
    public NetnsProcess Server { get; private set; } = null!;

    public IPAddress Target(bool v6) => v6 ? Topology.Target.V6 : Topology.Target.V4;

    public virtual async Task InitializeAsync()
    {
        if (Requirements.NetworkNamespacesSkipReason is not null)
        {
            return;
        }

        _topology = NetnsTopology.Create();
        var t = _topology;
        t.Exec(t.Router1Namespace, "ip", "route", "add", "10.201.1.0/24", "via", t.RelayEgress.V4.ToString());
        t.Exec(t.Router1Namespace, "ip", "-6", "route", "add", "fd00:201:1::/64", "via", t.RelayEgress.V6.ToString());
        foreach (var rule in RejectRules)
        {
            t.AddRule(t.Router1Namespace, rule);
        }

        _echo = UdpResponder.EchoIn(t, t.TargetNamespace, EchoPort);
        foreach (var address in new[] { t.Target.V4, t.Target.V6 })
        {
            _owned.Add(await Dnsmasq.StartInAsync(t, t.TargetNamespace, address, $"--host-record={DnsName},{DnsAnswerV4},{DnsAnswerV6}"));
        }

        Server = await StartServerAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        if (_echo is not null)
        {
            await _echo.DisposeAsync();
        }

        // Kills the server and anything else still running in the namespaces.
        _topology?.Dispose();
    }

    /// <summary>
    /// Starts <c>s5nc tun -v</c> in the client namespace and waits until it runs (or exits first).
    /// <paramref name="arguments"/> replace the default proxy and routes when given.
    /// </summary>
    public async Task<NetnsProcess> StartTunAsync(params string[] arguments)
    {
        string[] args = arguments.Length > 0 ? arguments : ["--proxy", Proxy, .. Routes.SelectMany(r => new[] { "--route", r })];
        var tun = Topology.StartDotNet(Topology.ClientNamespace, Fixtures.CliRun.S5ncDll, ["tun", "-v", .. args],
            new Dictionary<string, string?> { ["SOCKS5_PROXY"] = null, ["SOCKS5_PASSWORD"] = null });
        try
        {
            await tun.WaitForOutputAsync("Ctrl-C to stop", TimeSpan.FromSeconds(30));
            return tun;
        }
        catch
        {
            tun.Dispose();
            throw;
        }
    }

    /// <summary>Sends SIGTERM and waits for the exit; returns the exit code.</summary>
    public static async Task<int> StopAsync(NetnsProcess tun)
    {
        tun.Terminate();
        return await tun.WaitForExitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// The relay forwards (the client then reaches the target directly, for the reference runs) or not
    /// (the default: then the client reaches the target only through the gateway, so a check cannot
    /// pass because its datagrams went around it).
    /// </summary>
    public void SetRelayForwarding(bool on)
    {
        string value = on ? "1" : "0";
        Topology.Exec(Topology.RelayNamespace, "sysctl", "-q", "-w", $"net.ipv4.ip_forward={value}", $"net.ipv6.conf.all.forwarding={value}");
    }

    /// <summary>Forgets every path MTU the client and the relay learned, so each run starts from the links' MTUs.</summary>
    public void FlushPathMtus()
    {
        foreach (var ns in new[] { Topology.ClientNamespace, Topology.RelayNamespace })
        {
            Topology.Exec(ns, "ip", "route", "flush", "cache");
            Topology.Exec(ns, "ip", "-6", "route", "flush", "cache");
        }
    }

    /// <summary>Sets rp_filter (all and default, so a device made later has it too) in the client namespace.</summary>
    public void SetClientReversePathFilter(int mode) =>
        Topology.Exec(Topology.ClientNamespace, "sysctl", "-q", "-w", $"net.ipv4.conf.all.rp_filter={mode}", $"net.ipv4.conf.default.rp_filter={mode}");

    /// <summary>The server in the relay namespace on <see cref="ProxyPort"/> (or another port with other settings).</summary>
    public async Task<NetnsProcess> StartServerAsync(int port = ProxyPort, params string[] settings)
    {
        var t = Topology;
        var dll = Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll");
        var server = t.StartDotNet(t.RelayNamespace, dll,
        [
            $"--Relay:Listen:0={t.Relay.V4}:{port}", $"--Policy:AllowClients:0={t.Client.V4}/32",
            "--Policy:Destinations:0:Action=deny", "--Policy:Destinations:0:Network=10.201.4.0/24", $"--Policy:Destinations:0:Ports={DeniedPort}",
            "--Policy:Destinations:1:Action=deny", "--Policy:Destinations:1:Network=fd00:201:4::/64", $"--Policy:Destinations:1:Ports={DeniedPort}",
            .. settings,
        ]);
        await server.WaitForOutputAsync($"Listening for SOCKS5 on {t.Relay.V4}:{port}", TimeSpan.FromSeconds(30));
        return server;
    }

    private static IEnumerable<string> RejectRules =>
    [
        $"iptables -A FORWARD -p udp --dport {HostUnreachablePort} -j REJECT --reject-with icmp-host-unreachable",
        $"iptables -A FORWARD -p udp --dport {NetUnreachablePort} -j REJECT --reject-with icmp-net-unreachable",
        $"iptables -A FORWARD -p udp --dport {ProhibitedPort} -j REJECT --reject-with icmp-admin-prohibited",
        $"iptables -A FORWARD -p udp --dport {ProtocolUnreachablePort} -j REJECT --reject-with icmp-proto-unreachable",
        $"ip6tables -A FORWARD -p udp --dport {HostUnreachablePort} -j REJECT --reject-with icmp6-addr-unreachable",
        $"ip6tables -A FORWARD -p udp --dport {NetUnreachablePort} -j REJECT --reject-with icmp6-no-route",
        $"ip6tables -A FORWARD -p udp --dport {ProhibitedPort} -j REJECT --reject-with icmp6-adm-prohibited",
    ];
}
