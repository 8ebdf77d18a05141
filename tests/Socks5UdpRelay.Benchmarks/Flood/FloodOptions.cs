using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Load;

namespace Socks5UdpRelay.Benchmarks.Flood;

/// <summary>What <c>load --flood KIND</c> runs: the load options it shares with <c>load</c>, and its own.</summary>
internal sealed class FloodOptions
{
    public const string SlowDestination = "slow-destination";
    public const string Stranger = "stranger";

    public required string Kind { get; init; }

    /// <summary>Sizes, associations, window, duration, warm-up, runs, threads, CPUs, server arguments: as for <c>load</c>.</summary>
    public required LoadOptions Load { get; init; }

    /// <summary>Where the flooding association sends (slow-destination only).</summary>
    public IPEndPoint? Destination { get; init; }

    /// <summary>
    /// Flood datagrams per second; 0 = as fast as the flooding thread can send. The default is twice
    /// the default inbound budget (Relay:InboundDatagramsPerSecond): a flood the relay must refuse,
    /// yet cheap to send, because the flooding thread runs on the load generator's core, and a
    /// full-speed flood measures mostly what it takes from the load generator.
    /// </summary>
    public double Rate { get; init; } = DefaultRate;

    public const double DefaultRate = 10_000;

    /// <summary>The stranger's source address.</summary>
    public IPAddress StrangerAddress { get; init; } = IPAddress.Parse("127.0.0.2");

    /// <summary>A started server per mode (<c>Relay:Filtering</c>), measured side by side.</summary>
    public required string[] Filtering { get; init; }

    public static FloodOptions From(Args a)
    {
        string kind = a.Get("flood") ?? throw new UsageException("--flood: slow-destination or stranger");
        if (kind is not (SlowDestination or Stranger))
        {
            throw new UsageException($"--flood {kind}: slow-destination or stranger");
        }

        if (a.All("target").Count + a.All("proxy").Count > 0 || a.Strings("start-server", ["ours"]).Any(s => s != "ours"))
        {
            throw new UsageException("--flood starts our server itself (one per --filtering mode): no --target, --proxy or --start-server dante");
        }

        // The flood scenarios measure one small-datagram case by default, not load's whole matrix.
        bool sizesGiven = a.Get("sizes") is not null, associationsGiven = a.Get("associations") is not null, workloadsGiven = a.Get("workloads") is not null;
        var load = LoadOptions.From(a);
        if (load.Transports is not ["udp"])
        {
            throw new UsageException("--flood measures datagrams over UDP: no --transport tcp");
        }

        load.Targets.Clear();
        load.StartServers.Clear();
        load.Sizes = sizesGiven ? load.Sizes : [64];
        load.Associations = associationsGiven ? load.Associations : [1];
        load.Workloads = workloadsGiven ? load.Workloads : ["throughput", "latency"];
        if (load.Workloads.Any(w => w is not ("throughput" or "latency")))
        {
            throw new UsageException("--flood: --workloads throughput,latency");
        }

        IPEndPoint? destination = null;
        if (kind == SlowDestination)
        {
            string text = a.Get("slow-destination") ?? throw new UsageException(
                "--flood slow-destination needs --slow-destination HOST:PORT behind a slow link (a loopback destination never fills the relay's send buffer; see slow-link.sh)");
            if (!IPEndPoint.TryParse(text, out destination) || destination.Port == 0 || destination.AddressFamily != AddressFamily.InterNetwork || !IsLocalOrPrivate(destination.Address))
            {
                throw new UsageException($"--slow-destination {text}: an IPv4 HOST:PORT on loopback or in a private network (10/8, 172.16/12, 192.168/16): this tool floods it");
            }
        }

        string? from = a.Get("stranger-address");
        var stranger = from is null ? IPAddress.Parse("127.0.0.2") : IPAddress.TryParse(from, out var s) && IPAddress.IsLoopback(s) && s.AddressFamily == AddressFamily.InterNetwork ? s
            : throw new UsageException($"--stranger-address {from}: an IPv4 loopback address (127.0.0.2 by default)");
        double rate = a.Double("flood-rate", DefaultRate);
        if (rate < 0 || rate > 10_000_000)
        {
            throw new UsageException("--flood-rate: 0 (as fast as it can) .. 10000000 datagrams/s");
        }

        string[] modes = a.Strings("filtering", kind == Stranger ? ["endpoint-independent", "address-dependent"] : ["address-dependent"]);
        if (modes.Any(m => m is not ("endpoint-independent" or "address-dependent" or "address-and-port-dependent")) || modes.Distinct().Count() != modes.Length)
        {
            throw new UsageException("--filtering: a list of endpoint-independent, address-dependent, address-and-port-dependent");
        }

        return new FloodOptions { Kind = kind, Load = load, Destination = destination, Rate = rate, StrangerAddress = stranger, Filtering = modes };
    }

    private static bool IsLocalOrPrivate(IPAddress address)
    {
        byte[] b = address.GetAddressBytes();
        return IPAddress.IsLoopback(address) || b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168);
    }
}
