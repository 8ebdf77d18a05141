using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// Several replicas of the relay behind the kernel's own load balancing, the way Kubernetes'
/// kube-proxy does it in nftables mode (needs root):
/// <code>
///   client   10.210.1.2 ─┐                 ┌─ 10.210.11.2 rep1
///   outsider 10.210.2.2 ─┤── lb (router) ──┼─ 10.210.12.2 rep2
///   target   10.210.4.2 ─┘  VIP 10.210.100.1:1080 └─ 10.210.13.2 rep3
/// </code>
/// Every namespace hangs off <c>lb</c>, which routes between them and holds the virtual address:
/// an nftables DNAT rule spreads new TCP connections to <c>VIP:1080</c> over the replicas
/// (<c>numgen random</c>, as kube-proxy), and, when asked, masquerades them (a Service with
/// <c>externalTrafficPolicy: Cluster</c>). UDP is never load-balanced: a client sends it straight
/// to the address its replica advertised. Addresses are IPv4 only; lb's side of each link is .1.
/// Every namespace is named <c>s5t{pid}x{n}-{role}</c>; dispose kills what was started here and
/// deletes every namespace (the nftables rules live in lb's and go with it).
/// </summary>
public sealed class ScaleOutTopology : IDisposable
{
    public const int ReplicaCount = 3;

    /// <summary>The SOCKS port, on the virtual address and on every replica.</summary>
    public const int SocksPort = 1080;

    private const string Table = "s5lb";

    private readonly OwnedNamespaces _owned;

    private ScaleOutTopology(string prefix)
    {
        _owned = new OwnedNamespaces(prefix);
    }

    public string Prefix => _owned.Prefix;

    public string ClientNamespace => Prefix + "client";

    /// <summary>A client on a subnet the replicas' allow-lists leave out.</summary>
    public string OutsiderNamespace => Prefix + "outsider";

    public string LoadBalancerNamespace => Prefix + "lb";

    public string TargetNamespace => Prefix + "target";

    public static IPAddress Client { get; } = IPAddress.Parse("10.210.1.2");

    public static IPAddress Outsider { get; } = IPAddress.Parse("10.210.2.2");

    public static IPAddress Target { get; } = IPAddress.Parse("10.210.4.2");

    /// <summary>The Service's virtual address: on no interface, only in lb's DNAT rule.</summary>
    public static IPAddress VirtualAddress { get; } = IPAddress.Parse("10.210.100.1");

    /// <summary>Replica <paramref name="i"/>'s own address (0-based): where it listens and what it advertises.</summary>
    public static IPAddress Replica(int i) => IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"10.210.{11 + i}.2"));

    /// <summary>lb's address on replica <paramref name="i"/>'s link: the source of masqueraded connections.</summary>
    public static IPAddress ReplicaGateway(int i) => IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"10.210.{11 + i}.1"));

    public string ReplicaNamespace(int i) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}rep{i + 1}");

    public static ScaleOutTopology Create() => OwnedNamespaces.Build(prefix => new ScaleOutTopology(prefix), topology => topology.Build());

    /// <summary>
    /// Replaces lb's load-balancing rules in one nftables transaction: new connections to
    /// <c>VIP:1080</c> go to one of <paramref name="replicas"/> at random, and are masqueraded
    /// (the replica then sees lb's address as the client's) when <paramref name="masquerade"/>.
    /// Connections already established keep their replica (conntrack), as with kube-proxy when an
    /// endpoint leaves.
    /// </summary>
    public void LoadBalance(IReadOnlyList<int> replicas, bool masquerade)
    {
        string map = string.Join(", ", replicas.Select((r, i) => string.Create(CultureInfo.InvariantCulture, $"{i} : {Replica(r)}")));
        string script = $$"""
            table ip {{Table}}
            delete table ip {{Table}}
            table ip {{Table}} {
              chain prerouting {
                type nat hook prerouting priority dstnat; policy accept;
                ip daddr {{VirtualAddress}} tcp dport {{SocksPort}} dnat to numgen random mod {{replicas.Count}} map { {{map}} }
              }
              chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                {{(masquerade ? "ct status dnat masquerade" : string.Empty)}}
              }
            }

            """;
        CommandRunner.RunChecked(["ip", "netns", "exec", LoadBalancerNamespace, ExternalTools.Resolve("nft"), "-f", "-"], script);
    }

    /// <summary>The rules lb holds now (<c>nft list table</c>), for failure messages and checks.</summary>
    public string ListRules() => CommandRunner.RunChecked(["ip", "netns", "exec", LoadBalancerNamespace, ExternalTools.Resolve("nft"), "list", "table", "ip", Table]);

    /// <summary>Starts <c>dotnet {assemblyPath} args…</c> inside <paramref name="ns"/>; disposing this topology kills it.</summary>
    public NetnsProcess StartDotNet(string ns, string assemblyPath, IEnumerable<string> arguments)
        => _owned.Start(ns, [NetnsTopology.DotNetHost, assemblyPath, .. arguments], null);

    /// <summary>A socket created inside <paramref name="ns"/> (see <see cref="NetnsTopology.CreateSocket"/>).</summary>
    public Socket CreateSocket(string ns, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        _owned.EnsureOwned(ns);
        return NetnsTopology.CreateSocketIn(ns, family, type, protocol);
    }

    /// <summary>Kills what was started here and deletes every namespace (the nftables rules go with lb's). Safe to call more than once.</summary>
    public void Dispose() => _owned.Dispose();

    private void Build()
    {
        var replicas = Enumerable.Range(0, ReplicaCount).Select(ReplicaNamespace).ToList();
        string[] roles = [LoadBalancerNamespace, ClientNamespace, OutsiderNamespace, TargetNamespace, .. replicas];
        foreach (var ns in roles)
        {
            _owned.Add(ns);
        }

        var links = new List<string>();
        var perNamespace = roles.ToDictionary(ns => ns, _ => new List<string> { "link set lo up" });
        var hosts = new List<(string Ns, string Subnet)> { (ClientNamespace, "10.210.1"), (OutsiderNamespace, "10.210.2"), (TargetNamespace, "10.210.4") };
        hosts.AddRange(replicas.Select((ns, i) => (ns, string.Create(CultureInfo.InvariantCulture, $"10.210.{11 + i}"))));
        int n = 0;
        foreach (var (ns, subnet) in hosts)
        {
            // Short names: an interface name has at most 15 bytes.
            string lbSide = string.Create(CultureInfo.InvariantCulture, $"lb{n++}");
            links.Add($"link add {lbSide} netns {LoadBalancerNamespace} type veth peer name to-lb netns {ns}");
            perNamespace[LoadBalancerNamespace].AddRange([$"addr add {subnet}.1/24 dev {lbSide}", $"link set {lbSide} up"]);
            perNamespace[ns].AddRange([$"addr add {subnet}.2/24 dev to-lb", "link set to-lb up", $"route add 0.0.0.0/0 via {subnet}.1"]);
        }

        NetnsTopology.RunBatch(null, links);
        foreach (var ns in roles)
        {
            NetnsTopology.RunBatch(ns, perNamespace[ns]);
        }

        CommandRunner.RunChecked(["ip", "netns", "exec", LoadBalancerNamespace, ExternalTools.Resolve("sysctl"), "-q", "-w", "net.ipv4.ip_forward=1"]);
        // Every client's datagram to a closed port must draw its port unreachable, however many arrive at once.
        CommandRunner.RunChecked(["ip", "netns", "exec", TargetNamespace, ExternalTools.Resolve("sysctl"), "-q", "-w", "net.ipv4.icmp_ratelimit=0"]);
        LoadBalance([.. Enumerable.Range(0, ReplicaCount)], masquerade: false);
    }
}
