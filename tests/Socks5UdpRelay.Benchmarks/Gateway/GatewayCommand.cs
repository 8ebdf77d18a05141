using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Load;
using Socks5UdpRelay.Benchmarks.Native;

namespace Socks5UdpRelay.Benchmarks.Gateway;

/// <summary>
/// <c>gateway</c>: the same load through the proxy twice, side by side in one run: from a
/// SOCKS-aware client (the load tool's raw SOCKS flows), and from a plain program behind
/// <c>s5nc tun</c>; then new flows (DNS-like exchanges, each from a new socket) through the
/// gateway, and the bytes the gateway allocated per datagram. Needs root.
/// </summary>
internal static class GatewayCommand
{
    public const string Usage = """
        gateway [options]              s5nc tun vs a SOCKS-aware client, same load, same proxy (root: network namespaces, TUN)
          --sizes LIST                 payload bytes (default 64,1200)
          --sockets LIST               program sockets (= SOCKS associations) per throughput run (default 1,4)
          --window W                   datagrams in flight per socket for throughput (default 32)
          --duration S / --warmup S    measured seconds / warm-up seconds per run (default 3 / 1)
          --runs R                     repetitions; the table shows medians (default 3)
          --via LIST                   socks,gateway (default both; one alone, e.g. to profile the gateway)
          --workloads LIST             latency,throughput,new-flows (default all three)
          --flows N                    DNS-like exchanges through the gateway, each from a new socket (default 1000)
          --flow-batch LIST            exchanges started at once (default 1,16)
          --server-cpu N / --tun-cpu N / --load-cpu N    pin the proxy / s5nc tun / this tool to a CPU
        """;

    public static int Run(Args args)
    {
        var o = new
        {
            Sizes = args.Ints("sizes", [64, 1200]),
            Sockets = args.Ints("sockets", [1, 4]),
            Window = Math.Clamp(args.Int("window", 32), 1, 4096),
            Duration = Math.Clamp(args.Double("duration", 3), 0.1, 600),
            Warmup = Math.Clamp(args.Double("warmup", 1), 0, 60),
            Runs = Math.Clamp(args.Int("runs", 3), 1, 100),
            Via = args.Strings("via", ["socks", "gateway"]),
            Workloads = args.Strings("workloads", ["latency", "throughput", "new-flows"]),
            Flows = Math.Clamp(args.Int("flows", 1000), 1, 100_000),
            FlowBatches = args.Ints("flow-batch", [1, 16]).Select(b => Math.Clamp(b, 1, 1024)).ToArray(),
            ServerCpu = args.Get("server-cpu") is null ? (int?)null : args.Int("server-cpu", 0),
            TunCpu = args.Get("tun-cpu") is null ? (int?)null : args.Int("tun-cpu", 0),
            LoadCpu = args.Get("load-cpu") is null ? (int?)null : args.Int("load-cpu", 0),
        };
        args.RejectUnknown();
        if (!File.Exists("/proc/self/status") || !File.ReadAllLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t')[1] == "0"))
        {
            throw new UsageException("gateway needs root: it makes network namespaces and a TUN device");
        }

        if (o.LoadCpu is { } cpu)
        {
            CpuAffinity.PinProcess(cpu);
        }

        using var lab = GatewayLab.Start(o.ServerCpu, o.TunCpu);
        Console.Error.WriteLine($"proxy {lab.Proxy} (pid {lab.ServerPid}) in {lab.ProxyNamespace}; echo {lab.Echo} in {lab.TargetNamespace}; s5nc tun --route {GatewayLab.Route} (pid {lab.TunPid}) in {lab.ClientNamespace}");
        var all = new List<Dictionary<string, object?>>();
        for (int run = 1; run <= o.Runs; run++)
        {
            double idleBytesPerSecond = IdleAllocationRate(lab);
            foreach (int size in o.Sizes)
            {
                foreach (string via in o.Via.Where(_ => o.Workloads.Contains("latency")))
                {
                    all.Add(Timed(lab, run, via, "latency", size, sockets: 1, window: 1, o.Warmup, o.Duration, idleBytesPerSecond));
                }

                foreach (int sockets in o.Sockets.Where(_ => o.Workloads.Contains("throughput")))
                {
                    foreach (string via in o.Via)
                    {
                        all.Add(Timed(lab, run, via, "throughput", size, sockets, o.Window, o.Warmup, o.Duration, idleBytesPerSecond));
                    }
                }
            }

            foreach (int batch in o.FlowBatches.Where(_ => o.Workloads.Contains("new-flows")))
            {
                all.Add(NewFlows(lab, run, o.Flows, batch));
            }
        }

        foreach (var record in all)
        {
            Console.WriteLine(JsonSerializer.Serialize(record));
        }

        PrintTable(all);
        return 0;
    }

    /// <summary>
    /// What the gateway allocates per second with no datagram at all: its housekeeping (the gateway
    /// re-reads the host's addresses once a second, for the martian check). The per-datagram figure
    /// is what a load adds on top of it.
    /// </summary>
    private static double IdleAllocationRate(GatewayLab lab)
    {
        var clock = Stopwatch.StartNew();
        var before = lab.Counters();
        Thread.Sleep(TimeSpan.FromSeconds(3));
        var after = lab.Counters();
        return (after.Allocated - before.Allocated) / clock.Elapsed.TotalSeconds;
    }

    private static Dictionary<string, object?> Timed(GatewayLab lab, int run, string via, string workload, int size, int sockets, int window, double warmup, double duration, double idleBytesPerSecond)
    {
        // Sockets made in the client namespace; the SOCKS flows' control connections too.
        var flows = Netns.Run(lab.ClientNamespace, () => Enumerable.Range(0, sockets)
            .Select(i => new Flow(i, via == "socks" ? lab.Proxy : null, lab.Echo, size, window, bind: GatewayLab.ClientAddress)).ToList());
        try
        {
            double server0 = 0, server1 = 0, tun0 = 0, tun1 = 0;
            GatewayCounters? before = null, after = null;
            var window0 = Stopwatch.StartNew();
            var result = LoadEngine.Run(flows, window, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(duration), workers: 1,
                () => { server0 = ProcessStats.CpuSeconds(lab.ServerPid); tun0 = ProcessStats.CpuSeconds(lab.TunPid); before = via == "gateway" ? lab.Counters() : null; window0.Restart(); },
                () => { server1 = ProcessStats.CpuSeconds(lab.ServerPid); tun1 = ProcessStats.CpuSeconds(lab.TunPid); after = via == "gateway" ? lab.Counters() : null; window0.Stop(); });
            long datagrams = after is null || before is null ? 0 : (after.Sent - before.Sent) + (after.Replies - before.Replies);
            double allocated = after is null || before is null ? 0 : after.Allocated - before.Allocated;
            return new Dictionary<string, object?>
            {
                ["kind"] = "run", ["run"] = run, ["via"] = via, ["workload"] = workload, ["size"] = size, ["sockets"] = sockets, ["window"] = window,
                ["per_second"] = Math.Round(result.RepliesPerSecond), ["loss_pct"] = Math.Round(result.LossPercent, 3), ["invalid"] = result.Invalid,
                ["p50_us"] = Math.Round(result.Latency.Percentile(0.50), 1), ["p90_us"] = Math.Round(result.Latency.Percentile(0.90), 1),
                ["p99_us"] = Math.Round(result.Latency.Percentile(0.99), 1),
                ["server_cpu_us_per_rt"] = result.Replies > 0 ? Math.Round((server1 - server0) * 1e6 / result.Replies, 2) : null,
                ["tun_cpu_us_per_rt"] = via == "gateway" && result.Replies > 0 ? Math.Round((tun1 - tun0) * 1e6 / result.Replies, 2) : null,
                ["tun_bytes_per_datagram"] = datagrams > 0 ? Math.Round((allocated - (idleBytesPerSecond * window0.Elapsed.TotalSeconds)) / datagrams, 3) : null,
                ["tun_bytes_allocated"] = allocated,
                ["tun_idle_bytes_per_second"] = Math.Round(idleBytesPerSecond),
                ["tun_datagrams"] = datagrams,
            };
        }
        finally
        {
            foreach (var f in flows)
            {
                f.Dispose();
            }
        }
    }

    /// <summary>
    /// <paramref name="count"/> exchanges, each from a socket of its own (a new source port, as a
    /// resolver's query), <paramref name="batch"/> at a time: flows per second, and the TCP
    /// connections (associations) the gateway opened meanwhile.
    /// </summary>
    private static Dictionary<string, object?> NewFlows(GatewayLab lab, int run, int count, int batch)
    {
        var before = lab.Counters();
        var (elapsed, answered) = Netns.Run(lab.ClientNamespace, () =>
        {
            byte[] query = new byte[40];
            byte[] answer = new byte[512];
            int ok = 0;
            var clock = Stopwatch.StartNew();
            for (int started = 0; started < count; started += batch)
            {
                var sockets = Enumerable.Range(0, Math.Min(batch, count - started)).Select(_ =>
                {
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2_000 };
                    s.Bind(new IPEndPoint(GatewayLab.ClientAddress, 0));
                    s.SendTo(query, lab.Dns);
                    return s;
                }).ToList();
                foreach (var s in sockets)
                {
                    try
                    {
                        ok += s.Receive(answer) == query.Length ? 1 : 0;
                    }
                    catch (SocketException)
                    {
                        // Unanswered within 2 s: counted by its absence.
                    }

                    s.Dispose();
                }
            }

            return (clock.Elapsed, ok);
        });
        var after = lab.Counters();
        return new Dictionary<string, object?>
        {
            ["kind"] = "run", ["run"] = run, ["via"] = "gateway", ["workload"] = "new-flows", ["size"] = 40, ["sockets"] = count, ["window"] = batch,
            ["per_second"] = Math.Round(count / elapsed.TotalSeconds), ["answered"] = answered,
            ["associations_opened"] = after.Associations - before.Associations,
        };
    }

    private static void PrintTable(List<Dictionary<string, object?>> all)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"Medians of {all.Max(r => (int)r["run"]!)} run(s). RTT in µs; per_s = replies/s (new-flows: exchanges/s); cpu = µs of CPU per round trip;\n"
            + "tun B/dgram = bytes s5nc allocated per datagram (sent + replies) beyond its idle rate (housekeeping, about once a second).");
        Console.WriteLine(string.Format(inv, "{0,-11} {1,5} {2,7} {3,10} {4,10} {5,6} {6,10} {7,10} {8,6} {9,9} {10,9} {11,12}",
            "workload", "size", "sockets", "socks/s", "gateway/s", "ratio", "socks p50", "gw p50", "ratio", "srv cpu", "tun cpu", "tun B/dgram"));
        foreach (var group in all.Where(r => (string)r["workload"]! != "new-flows").GroupBy(r => ((string)r["workload"]!, (int)r["size"]!, (int)r["sockets"]!)))
        {
            var socks = group.Where(r => (string)r["via"]! == "socks").ToList();
            var gateway = group.Where(r => (string)r["via"]! == "gateway").ToList();
            double sp = Median(socks, "per_second"), gp = Median(gateway, "per_second"), sl = Median(socks, "p50_us"), gl = Median(gateway, "p50_us");
            Console.WriteLine(string.Format(inv, "{0,-11} {1,5} {2,7} {3,10:F0} {4,10:F0} {5,6:F2} {6,10:F1} {7,10:F1} {8,6:F2} {9,9:F2} {10,9:F2} {11,12:F3}",
                group.Key.Item1, group.Key.Item2, group.Key.Item3, sp, gp, gp / sp, sl, gl, gl / sl,
                Median(gateway, "server_cpu_us_per_rt"), Median(gateway, "tun_cpu_us_per_rt"), Median(gateway, "tun_bytes_per_datagram")));
        }

        foreach (var flows in all.Where(r => (string)r["workload"]! == "new-flows").GroupBy(r => (int)r["window"]!))
        {
            Console.WriteLine(string.Format(inv, "new flows: {0} exchanges each from a new socket, {1} at once: {2:F0} flows/s (median; runs {3}), answered {4}, TCP connections opened {5}",
                flows.First()["sockets"], flows.Key, Median(flows, "per_second"), string.Join('/', flows.Select(f => f["per_second"])),
                string.Join('/', flows.Select(f => f["answered"])), string.Join('/', flows.Select(f => f["associations_opened"]))));
        }
    }

    private static double Median(IEnumerable<Dictionary<string, object?>> records, string key)
    {
        var values = records.Select(r => r.GetValueOrDefault(key) is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : double.NaN).Where(double.IsFinite).OrderBy(v => v).ToList();
        return values.Count == 0 ? double.NaN : values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }
}
