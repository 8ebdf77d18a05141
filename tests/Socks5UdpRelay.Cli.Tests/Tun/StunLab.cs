using System.Net;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// A <see cref="TunLab"/> with Debian's <c>stund</c> (RFC 3489) in the target namespace on the
/// target's address and a second one (<see cref="StunAlternate"/>, inside the routed prefix), a server
/// per <c>Relay:Filtering</c> mode in the relay namespace, and Debian's <c>stun</c> client's result
/// without a proxy (the client routed directly through the relay) taken before any gateway runs.
/// </summary>
public sealed class StunLab : TunLab
{
    public const string Stun = "/usr/bin/stun";
    public const string Stund = "/usr/sbin/stund";

    /// <summary>stund's alternate address, on the target's link: router2 delivers it, router1's route and <c>--route</c> cover it.</summary>
    public static readonly IPAddress StunAlternate = IPAddress.Parse("10.201.4.3");

    /// <summary>Each <c>Relay:Filtering</c> mode's server port; <c>address-dependent</c> is the lab's server, with the defaults.</summary>
    private static readonly IReadOnlyDictionary<string, int> s_ports = new Dictionary<string, int>
    {
        ["address-dependent"] = ProxyPort,
        ["endpoint-independent"] = ProxyPort + 1,
        ["address-and-port-dependent"] = ProxyPort + 2,
    };

    /// <summary><c>stun TARGET</c> in the client namespace with the relay forwarding and no gateway.</summary>
    internal ProgramOutput Direct { get; private set; } = null!;

    /// <summary>stund, running (its -v log, for failure messages).</summary>
    public NetnsProcess StunServer { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (Requirements.NetworkNamespacesSkipReason is not null)
        {
            return; // the tests skip: nothing was built
        }

        var t = Topology;
        t.Exec(t.TargetNamespace, "ip", "addr", "add", $"{StunAlternate}/24", "dev", "to-r2");
        StunServer = t.StartProcess(t.TargetNamespace, Stund, ["-v", "-h", t.Target.V4.ToString(), "-a", StunAlternate.ToString()]);

        // stund binds primary:3478, primary:3479, alternate:3478, alternate:3479 in that order, then
        // serves; -v says so for each. The fourth is fd 6: ip netns exec hands it fds 0-2 only.
        await StunServer.WaitForOutputAsync("Opened port 3479 with fd 6");
        await Task.WhenAll(s_ports.Where(p => p.Value != ProxyPort).Select(p => StartServerAsync(p.Value, $"--Relay:Filtering={p.Key}")));

        SetRelayForwarding(true);
        Direct = RunStun();
        SetRelayForwarding(false);
    }

    /// <summary><c>--proxy</c> for the server running with <c>Relay:Filtering</c> <paramref name="filtering"/>.</summary>
    public string ProxyFor(string filtering) => $"{Topology.Relay.V4}:{s_ports[filtering]}";

    /// <summary><c>stun TARGET</c> (Debian's client, unmodified) in the client namespace.</summary>
    internal ProgramOutput RunStun() => TunChecks.Run(Topology.ClientNamespace, Stun, [Target(false).ToString()]);
}
