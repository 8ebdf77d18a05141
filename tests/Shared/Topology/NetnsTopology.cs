using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Tests.Shared.Topology;

/// <summary>
/// Five network namespaces in a chain, built for ICMP error tests (needs root):
/// <code>
///  client ─ 10.201.1.0/24 ─ relay ─ 10.201.2.0/24 ─ router1 ═ 10.201.3.0/24 (MTU 1280) ═ router2 ─ 10.201.4.0/24 ─ target
///  .2              .1      .1              .2     .1                              .2     .1              .2
/// </code>
/// IPv6 mirrors it in <c>fd00:201:N::/64</c> with the same host numbers. The relay is an end host
/// (it runs the SOCKS server; it does not forward): the client's default route points at the
/// relay, the relay's at router1. Router1 routes 10.201.4.0/24 via router2 and has no default
/// route, so <see cref="Unrouted"/> is net-unreachable there; router2 and the target default back
/// towards the relay. ICMP rate limits are off in the routers and the target unless
/// <see cref="NetnsTopologyOptions.KeepDefaultIcmpRateLimits"/>.
/// Every namespace is named <c>s5t{pid}x{n}-{role}</c>; dispose deletes them all and is idempotent,
/// and <see cref="Create"/> first deletes leftovers of runs whose process is gone.
/// </summary>
public sealed class NetnsTopology : IAsyncDisposable, IDisposable
{
    /// <summary>The MTU of the router1 ═ router2 link: a 1400-byte DF datagram draws frag-needed / packet-too-big from router1.</summary>
    public const int SmallMtu = 1280;

    private const int CloneNewNet = 0x40000000;

    private static readonly Lazy<bool> s_iptablesIsLegacy = new(() =>
        CommandRunner.Run(["iptables", "-V"]).StandardOutput.Contains("legacy", StringComparison.Ordinal));

    private readonly NetnsTopologyOptions _options;
    private readonly OwnedNamespaces _owned;

    private NetnsTopology(string prefix, NetnsTopologyOptions options)
    {
        _owned = new OwnedNamespaces(prefix);
        _options = options;
    }

    /// <summary>This topology's unique name prefix, <c>s5t{pid}x{n}-</c>.</summary>
    public string Prefix => _owned.Prefix;

    public string ClientNamespace => Prefix + "client";

    public string RelayNamespace => Prefix + "relay";

    public string Router1Namespace => Prefix + "r1";

    public string Router2Namespace => Prefix + "r2";

    public string TargetNamespace => Prefix + "target";

    /// <summary>Every namespace this topology created, in chain order.</summary>
    public IReadOnlyList<string> Namespaces => _owned.Names;

    /// <summary>The client host, on the client ─ relay link (10.201.1.2, fd00:201:1::2).</summary>
    public AddressPair Client { get; } = AddressPair.In(1, 2);

    /// <summary>The relay's client-facing address, where the SOCKS server listens (10.201.1.1, fd00:201:1::1).</summary>
    public AddressPair Relay { get; } = AddressPair.In(1, 1);

    /// <summary>The relay's router-facing address: the source of relayed datagrams and where ICMP errors arrive (10.201.2.1, fd00:201:2::1).</summary>
    public AddressPair RelayEgress { get; } = AddressPair.In(2, 1);

    /// <summary>Router1 facing the relay (10.201.2.2, fd00:201:2::2): the offender of the errors router1 sends.</summary>
    public AddressPair Router1 { get; } = AddressPair.In(2, 2);

    /// <summary>Router1 on its far, 1280-MTU link (10.201.3.1, fd00:201:3::1).</summary>
    public AddressPair Router1Far { get; } = AddressPair.In(3, 1);

    /// <summary>Router2 facing router1 (10.201.3.2, fd00:201:3::2): the offender of the errors router2 sends.</summary>
    public AddressPair Router2 { get; } = AddressPair.In(3, 2);

    /// <summary>Router2 facing the target (10.201.4.1, fd00:201:4::1).</summary>
    public AddressPair Router2Far { get; } = AddressPair.In(4, 1);

    /// <summary>The target host (10.201.4.2, fd00:201:4::2).</summary>
    public AddressPair Target { get; } = AddressPair.In(4, 2);

    /// <summary>On router1's far subnet, but no host answers ARP/ND: router1 reports host unreachable (3/1, ICMPv6 1/3) after about 3 s (10.201.3.99, fd00:201:3::99).</summary>
    public AddressPair Unanswered { get; } = AddressPair.In(3, 99);

    /// <summary>
    /// In a subnet router1 has no route for: router1 reports net unreachable (3/0, ICMPv6 1/0) (10.201.250.1, fd00:201:250::1).
    /// Caveat (IPv4): the kernel drops that 3/0 when router1 sent the relay any other ICMP error
    /// within the last second (a shared per-host token bucket, see the server tests' <c>TopologyNoRouteTests</c>):
    /// test it in a topology of its own, or first.
    /// </summary>
    public AddressPair Unrouted { get; } = AddressPair.In(250, 1);

    /// <summary>
    /// Builds the topology. Throws (with the reason) when network namespaces are unavailable; if
    /// building fails half-way, whatever was made is deleted before the exception leaves.
    /// </summary>
    public static NetnsTopology Create(NetnsTopologyOptions? options = null) =>
        OwnedNamespaces.Build(prefix => new NetnsTopology(prefix, options ?? new NetnsTopologyOptions()), topology => topology.Build());

    /// <summary>
    /// Deletes namespaces (and <c>/etc/netns</c> directories) named <c>s5t{pid}x…</c> whose owning
    /// process no longer exists, killing anything still running inside them first.
    /// </summary>
    public static void DeleteLeftovers()
    {
        foreach (var name in ListNamespaces().Where(name => NamespaceNames.IsLeftover(name, NamespaceNames.ProcessExists)))
        {
            DeleteNamespace(name);
        }

        if (Directory.Exists("/etc/netns"))
        {
            foreach (var directory in Directory.GetDirectories("/etc/netns"))
            {
                if (NamespaceNames.IsLeftover(Path.GetFileName(directory), NamespaceNames.ProcessExists))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }
    }

    /// <summary>The names <c>ip netns list</c> shows, without their ids.</summary>
    public static IReadOnlyList<string> ListNamespaces() =>
        [.. CommandRunner.RunChecked(["ip", "netns", "list"])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')[0])];

    /// <summary>Runs <paramref name="command"/> inside <paramref name="ns"/> (<c>ip netns exec</c>) and returns its standard output; throws with its standard error on failure.</summary>
    public string Exec(string ns, params string[] command)
    {
        EnsureOwned(ns);
        ArgumentOutOfRangeException.ThrowIfZero(command.Length);
        return CommandRunner.RunChecked(["ip", "netns", "exec", ns, ExternalTools.Resolve(command[0]), .. command.Skip(1)]);
    }

    /// <summary>Adds one firewall rule inside <paramref name="ns"/>: <c>"iptables -A FORWARD -p udp --dport 9 -j DROP"</c> (iptables or ip6tables, arguments separated by spaces).</summary>
    public void AddRule(string ns, string rule)
    {
        var words = rule.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 2 || words[0] is not ("iptables" or "ip6tables"))
        {
            throw new ArgumentException($"Expected an iptables or ip6tables command line, got `{rule}`.", nameof(rule));
        }

        Exec(ns, words);
    }

    /// <summary>Removes every firewall rule (nftables, and iptables/ip6tables on either backend) inside <paramref name="ns"/>.</summary>
    public void ClearRules(string ns)
    {
        Exec(ns, "nft", "flush", "ruleset");
        if (s_iptablesIsLegacy.Value)
        {
            Exec(ns, "iptables", "-F");
            Exec(ns, "ip6tables", "-F");
        }
    }

    /// <summary>Loads an nftables script (<c>nft -f -</c>) inside <paramref name="ns"/>.</summary>
    public void Nft(string ns, string script)
    {
        EnsureOwned(ns);
        CommandRunner.RunChecked(["ip", "netns", "exec", ns, ExternalTools.Resolve("nft"), "-f", "-"], script);
    }

    /// <summary>
    /// Writes <c>/etc/netns/{ns}/hosts</c>, which processes started in <paramref name="ns"/> (<see cref="Exec"/>,
    /// <see cref="StartProcess"/>) see as <c>/etc/hosts</c>. Lines like <c>"10.201.4.2 target.test"</c>.
    /// </summary>
    public void WriteHosts(string ns, IEnumerable<string> lines)
    {
        EnsureOwned(ns);
        var directory = Path.Combine("/etc/netns", ns);
        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, "hosts"), ["127.0.0.1 localhost", "::1 localhost", .. lines]);
    }

    /// <summary>
    /// Starts a long-running process inside <paramref name="ns"/> (<c>ip netns exec ns fileName args…</c>,
    /// which execs, so the handle's pid is the program's). Its output is captured; disposing the handle,
    /// or this topology, kills its process tree.
    /// </summary>
    public NetnsProcess StartProcess(string ns, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        _owned.Start(ns, [ExternalTools.Resolve(fileName), .. arguments], environment);

    /// <summary>Starts <c>dotnet {assemblyPath} args…</c> inside <paramref name="ns"/>, e.g. the server in <see cref="RelayNamespace"/>.</summary>
    /// <example>
    /// <code>
    /// var dll = Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll");
    /// await using var server = topology.StartDotNet(topology.RelayNamespace, dll,
    ///     [$"--Relay:Listen:0={topology.Relay.V4}:1080", "--Policy:AllowOpenRelay=true"]);
    /// await server.WaitForOutputAsync("listening");   // whatever the server logs once bound
    /// // then connect from the client namespace: topology.CreateSocket(topology.ClientNamespace, …)
    /// </code>
    /// </example>
    public NetnsProcess StartDotNet(string ns, string assemblyPath, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        StartProcess(ns, DotNetHost, [assemblyPath, .. arguments], environment);

    /// <summary>The dotnet host running these tests, so a child uses the same runtime.</summary>
    public static string DotNetHost =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : ExternalTools.Resolve("dotnet");

    /// <summary>
    /// Creates a socket inside <paramref name="ns"/> from this process. A dedicated thread enters
    /// the namespace (setns), creates the socket and exits, so no pool thread ever changes namespace;
    /// the socket keeps the namespace it was created in for its whole life.
    /// </summary>
    public Socket CreateSocket(string ns, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        EnsureOwned(ns);
        return CreateSocketIn(ns, family, type, protocol);
    }

    /// <summary><see cref="CreateSocket"/> for any namespace of the caller's (another topology's).</summary>
    public static Socket CreateSocketIn(string ns, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using (var handle = File.OpenHandle(Path.Combine("/var/run/netns", ns), FileMode.Open, FileAccess.Read))
                {
                    EnterNetworkNamespace(handle);
                }

                socket = new Socket(family, type, protocol);
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        })
        {
            IsBackground = true,
            Name = $"setns {ns}",
        };
        thread.Start();
        if (!thread.Join(TestTimeout.Default))
        {
            throw new TimeoutException($"Creating a socket in {ns} did not finish within {TestTimeout.Default.TotalSeconds} s.");
        }

        return socket ?? throw new InvalidOperationException($"Could not create a {family} {type} socket in namespace {ns}.", failure);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Kills the processes started here and deletes every namespace and <c>/etc/netns</c> directory made here. Safe to call more than once, and after a failed build.</summary>
    public void Dispose() => _owned.Dispose();

    private void Build()
    {
        string[] roles = [ClientNamespace, RelayNamespace, Router1Namespace, Router2Namespace, TargetNamespace];
        foreach (var ns in roles)
        {
            _owned.Add(ns);
        }

        foreach (var ns in roles)
        {
            // DAD off before any interface exists: new interfaces copy "default", and a tentative
            // address (global or link-local) would make the first seconds of IPv6 unusable.
            List<string> settings = ["net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"];
            var isRouter = ns == Router1Namespace || ns == Router2Namespace;
            if (isRouter)
            {
                settings.AddRange(["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]);
            }

            if ((isRouter || ns == TargetNamespace) && !_options.KeepDefaultIcmpRateLimits)
            {
                settings.AddRange(["net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0"]);
            }

            Exec(ns, ["sysctl", "-q", "-w", .. settings]);
        }

        var links = new List<string>();
        var perNamespace = roles.ToDictionary(ns => ns, _ => new List<string> { "link set lo up" });

        void Link(string nsA, string ifA, AddressPair a, string nsB, string ifB, AddressPair b, int mtu)
        {
            // Created directly inside the two namespaces: the root namespace never sees them.
            links.Add($"link add {ifA} netns {nsA} type veth peer name {ifB} netns {nsB}");
            foreach (var (ns, name, address) in new[] { (nsA, ifA, a), (nsB, ifB, b) })
            {
                perNamespace[ns].AddRange(
                [
                    $"addr add {address.V4}/24 dev {name}",
                    $"addr add {address.V6}/64 dev {name} nodad",
                    string.Create(CultureInfo.InvariantCulture, $"link set {name} mtu {mtu} up"),
                ]);
            }
        }

        Link(ClientNamespace, "to-relay", Client, RelayNamespace, "to-client", Relay, 1500);
        Link(RelayNamespace, "to-r1", RelayEgress, Router1Namespace, "to-relay", Router1, 1500);
        Link(Router1Namespace, "to-r2", Router1Far, Router2Namespace, "to-r1", Router2, SmallMtu);
        Link(Router2Namespace, "to-target", Router2Far, TargetNamespace, "to-r2", Target, 1500);

        void Default(string ns, AddressPair via) =>
            perNamespace[ns].AddRange([$"route add 0.0.0.0/0 via {via.V4}", $"route add ::/0 via {via.V6}"]);

        Default(ClientNamespace, Relay);
        Default(RelayNamespace, Router1);
        perNamespace[Router1Namespace].AddRange(["route add 10.201.4.0/24 via 10.201.3.2", "route add fd00:201:4::/64 via fd00:201:3::2"]);
        Default(Router2Namespace, Router1Far);
        Default(TargetNamespace, Router2Far);

        RunBatch(null, links);
        foreach (var ns in roles)
        {
            RunBatch(ns, perNamespace[ns]);
        }
    }

    public static void RunBatch(string? ns, List<string> lines)
    {
        var script = string.Join('\n', lines) + "\n";
        string[] command = ns is null ? ["ip", "-batch", "-"] : ["ip", "-n", ns, "-batch", "-"];
        try
        {
            CommandRunner.RunChecked(command, script);
        }
        catch (CommandFailedException exception)
        {
            throw new InvalidOperationException($"Building the topology failed; the batch was:\n{script}", exception);
        }
    }

    public static void DeleteNamespace(string ns)
    {
        // A process still inside would keep the namespace (and its veths) alive after the name is gone.
        var pids = CommandRunner.Run(["ip", "netns", "pids", ns]);
        if (pids.Succeeded)
        {
            foreach (var line in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId)
                {
                    KillQuietly(pid);
                }
            }
        }

        CommandRunner.Run(["ip", "netns", "delete", ns]);
        var hostsDirectory = Path.Combine("/etc/netns", ns);
        if (Directory.Exists(hostsDirectory))
        {
            Directory.Delete(hostsDirectory, recursive: true);
        }
    }

    private static void KillQuietly(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TestTimeout.Default);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or Win32Exception)
        {
            // Already gone.
        }
    }

    private void EnsureOwned(string ns) => _owned.EnsureOwned(ns);

    private static void EnterNetworkNamespace(SafeFileHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (NativeMethods.setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
            {
                throw new Win32Exception(Marshal.GetLastPInvokeError(), "setns(CLONE_NEWNET) failed");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", ExactSpelling = true, SetLastError = true)]
        internal static extern int setns(int fd, int nstype);
    }
}
