using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// A destination behind a slow link (needs root): two namespaces joined by a veth whose relay-side
/// egress is shaped by tc tbf, with a queue long enough that the sending socket's buffer fills
/// before the qdisc drops anything (a datagram waiting in a qdisc is still charged to its socket,
/// so <c>sendto</c> then fails with EAGAIN). On loopback that never happens: the loopback device
/// hands each datagram straight to its receiver, and a receiver with a full buffer drops it.
/// <code>
///   relay: lo (server, clients, echo) ── 10.220.0.1 ══ tbf ══▶ 10.220.0.2 ── sink
/// </code>
/// Namespaces are named <c>s5t{pid}x{n}-{role}</c>; dispose kills what was started here and deletes both.
/// </summary>
public sealed partial class SlowLinkTopology : IDisposable
{
    private readonly OwnedNamespaces _owned;
    private readonly string _rate;

    private SlowLinkTopology(string prefix, string rate)
    {
        _owned = new OwnedNamespaces(prefix);
        _rate = rate;
    }

    /// <summary>The host behind the slow link.</summary>
    public static IPAddress Sink { get; } = IPAddress.Parse("10.220.0.2");

    public string RelayNamespace => _owned.Prefix + "relay";

    public string SinkNamespace => _owned.Prefix + "sink";

    /// <summary>Builds it; <paramref name="rate"/> is the link's rate in tc's words (<c>200kbit</c>).</summary>
    public static SlowLinkTopology Create(string rate) => OwnedNamespaces.Build(prefix => new SlowLinkTopology(prefix, rate), topology => topology.Build());

    /// <summary>The server, out of process, in the relay namespace; returns once it listens, with its SOCKS and metrics endpoints (on that namespace's loopback).</summary>
    public async Task<(NetnsProcess Process, IPEndPoint Socks, IPEndPoint Metrics)> StartServerAsync(IEnumerable<string> arguments)
    {
        var process = _owned.Start(RelayNamespace,
            [NetnsTopology.DotNetHost, Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll"),
             "--Relay:Listen:0=127.0.0.1:0", "--Metrics:Enabled=true", "--Metrics:Listen=127.0.0.1:0", .. arguments], null);
        await process.WaitForOutputAsync("Listening for SOCKS5 on ");
        await process.WaitForOutputAsync("Metrics on http://");
        return (process, IPEndPoint.Parse(ListeningRegex().Match(process.Output).Groups[1].Value), IPEndPoint.Parse(MetricsRegex().Match(process.Output).Groups[1].Value));
    }

    public Socket CreateSocket(string ns, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        _owned.EnsureOwned(ns);
        return NetnsTopology.CreateSocketIn(ns, family, type, protocol);
    }

    /// <summary>The shaping qdisc's counters (<c>tc -s qdisc</c>), for failure messages.</summary>
    public string QdiscStatistics() => CommandRunner.RunChecked(["ip", "netns", "exec", RelayNamespace, ExternalTools.Resolve("tc"), "-s", "qdisc", "show", "dev", "to-sink"]);

    public void Dispose() => _owned.Dispose();

    private void Build()
    {
        _owned.Add(RelayNamespace);
        _owned.Add(SinkNamespace);
        NetnsTopology.RunBatch(null, [$"link add to-sink netns {RelayNamespace} type veth peer name to-relay netns {SinkNamespace}"]);
        NetnsTopology.RunBatch(RelayNamespace, ["link set lo up", "addr add 10.220.0.1/30 dev to-sink", "link set to-sink up"]);
        NetnsTopology.RunBatch(SinkNamespace, ["link set lo up", $"addr add {Sink}/30 dev to-relay", "link set to-relay up"]);
        CommandRunner.RunChecked(["ip", "netns", "exec", RelayNamespace, ExternalTools.Resolve("tc"), "qdisc", "add", "dev", "to-sink", "root", "tbf", "rate", _rate, "burst", "1600", "limit", "1000000"]);
    }

    [GeneratedRegex(@"Listening for SOCKS5 on (\d+\.\d+\.\d+\.\d+:\d+)")]
    private static partial Regex ListeningRegex();

    [GeneratedRegex(@"Metrics on http://(\S+)/metrics")]
    private static partial Regex MetricsRegex();
}
