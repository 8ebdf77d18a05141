using System.Diagnostics;
using System.Net;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Load;
using Socks5UdpRelay.Benchmarks.Native;

namespace Socks5UdpRelay.Benchmarks.Flood;

/// <summary>
/// <c>load --flood KIND</c>: the measured associations' rate without and with a flood, side by
/// side, and what the server counted (issue #12 item 5: one association flooding a slow
/// destination; issue #16: a stranger flooding a mapping's outbound port). Without and with
/// alternate in every run (ABBA over runs), so a drift in the machine's load hits both alike.
/// </summary>
internal static class FloodCommand
{
    public const string Usage = """
        load --flood KIND [load options]   the measured rate without and with a flood, side by side, and the server's drop counters
          --flood slow-destination     another association floods --slow-destination (needs a slow link: slow-link.sh)
          --flood stranger             a stranger sprays the measured associations' outbound ports
          --slow-destination HOST:PORT where the flood goes: behind a rate-limited link, loopback or private addresses only
          --flood-rate N               flood datagrams/s (default 10000, twice the default inbound budget; 0: as fast as one
                                       thread can send, on the load generator's core: then it mostly measures what it takes from it)
          --stranger-address ADDR      the stranger's source (default 127.0.0.2: not an address the associations sent to)
          --filtering LIST             a started server per Relay:Filtering mode (stranger: endpoint-independent,address-dependent;
                                       slow-destination: address-dependent)
                                       defaults differ from load: --workloads throughput,latency --sizes 64 --associations 1; servers
                                       run with --Relay:EventLoops=1 (all associations on one loop: the isolation under test) and
                                       their metrics endpoint on; --server-arg overrides either
        """;

    public static int Run(Args args)
    {
        var o = FloodOptions.From(args);
        args.RejectUnknown();
        if (o.Load.LoadCpu is { } cpu)
        {
            CpuAffinity.PinProcess(cpu);
        }

        var servers = new List<(string Mode, Target Target, IPEndPoint Metrics)>();
        try
        {
            foreach (string mode in o.Filtering)
            {
                string[] serverArgs = ["--Relay:EventLoops=1", "--Metrics:Enabled=true", "--Metrics:Listen=127.0.0.1:0", $"--Relay:Filtering={mode}", .. o.Load.ServerArgs];
                var started = ServerLauncher.StartOurs(o.Load.ServerCpu, serverArgs, environment: o.Load.ServerEnv);
                var target = new Target(mode, started.EndPoint, started.Pid, started);
                var metrics = WaitForMetrics(started);
                if (metrics is null)
                {
                    target.Dispose();
                    throw new InvalidOperationException($"our server ({mode}) logged no metrics endpoint:\n{started.Tail}");
                }

                servers.Add((mode, target, metrics));
            }

            using var echo = new EchoServer(o.Load.EchoThreads);
            Console.Error.WriteLine($"echo target {echo.EndPoint}; flood {o.Kind} at {(o.Rate > 0 ? $"{o.Rate} datagrams/s" : "full speed")}"
                + (o.Destination is { } d ? $" to {d}" : $" from {o.StrangerAddress}") + "; servers: "
                + string.Join(", ", servers.Select(s => $"{s.Mode}={s.Target.Proxy} (pid {s.Target.Pid}, metrics {s.Metrics})")));
            var all = new List<FloodRecord>();
            for (int run = 1; run <= o.Load.Runs; run++)
            {
                foreach (var (mode, target, metrics) in servers)
                {
                    foreach (string workload in o.Load.Workloads)
                    {
                        foreach (int size in o.Load.Sizes)
                        {
                            foreach (int associations in o.Load.Associations)
                            {
                                foreach (bool flooded in run % 2 == 1 ? new[] { false, true } : [true, false])
                                {
                                    var record = Measure(o, target, metrics, echo, run, workload, size, associations, flooded);
                                    Console.WriteLine(record.ToJson());
                                    all.Add(record);
                                }
                            }
                        }
                    }
                }
            }

            FloodReport.Print(Console.Out, o, all);
            return Verdict(o, all);
        }
        finally
        {
            foreach (var s in servers)
            {
                s.Target.Dispose();
            }
        }
    }

    /// <summary>One measured window through <paramref name="target"/>, with the flood running from before its warm-up to its end, or without.</summary>
    private static FloodRecord Measure(FloodOptions o, Target target, IPEndPoint metrics, EchoServer echo, int run, string workload, int size, int associations, bool flooded)
    {
        int window = workload == "latency" ? 1 : o.Load.Window;
        var flows = new List<Flow>();
        PacedSender? flood = null;
        AssociationFlood? association = null;
        try
        {
            for (int i = 0; i < associations; i++)
            {
                flows.Add(new Flow(i, target.Proxy, echo.EndPoint, size, window, allowUnsolicited: true));
            }

            if (flooded)
            {
                if (o.Kind == FloodOptions.SlowDestination)
                {
                    association = AssociationFlood.Start(target.Proxy!, o.Destination!, size, o.Rate);
                    flood = association.Sender;
                }
                else
                {
                    flood = StrangerFlood.Start(flows, o.StrangerAddress, size, o.Rate);
                }
            }

            Dictionary<string, long> before = [], after = [];
            double cpu0 = 0, cpu1 = 0;
            long flood0 = 0, flood1 = 0;
            var result = LoadEngine.Run(flows, window, TimeSpan.FromSeconds(o.Load.Warmup), TimeSpan.FromSeconds(o.Load.Duration), o.Load.LoadThreads,
                () => { before = ServerCounters.Read(metrics); cpu0 = target.CpuSeconds(); flood0 = flood?.Sent ?? 0; },
                () => { flood1 = flood?.Sent ?? 0; cpu1 = target.CpuSeconds(); after = ServerCounters.Read(metrics); });
            return new FloodRecord
            {
                Scenario = o.Kind, Filtering = target.Name, Workload = workload, Size = size, Associations = associations, Window = window, Run = run,
                Flooded = flooded, Seconds = result.Seconds, Replies = result.Replies, PerSecond = result.RepliesPerSecond, LossPercent = result.LossPercent,
                Invalid = result.Invalid, FirstInvalid = result.FirstInvalid, Unsolicited = flows.Sum(f => f.Unsolicited),
                P50 = result.Latency.Percentile(0.50), P99 = result.Latency.Percentile(0.99),
                ServerCpuPercent = (cpu1 - cpu0) * 100 / result.Seconds, FloodPerSecond = (flood1 - flood0) / result.Seconds,
                Counters = ServerCounters.Delta(before, after),
            };
        }
        finally
        {
            if (association is not null)
            {
                association.Dispose();
            }
            else
            {
                flood?.Dispose();
            }

            foreach (var f in flows)
            {
                f.Dispose();
            }
        }
    }

    /// <summary>1 when a reply was wrong, or when the flood never did what the scenario needs (then the figures prove nothing).</summary>
    private static int Verdict(FloodOptions o, IReadOnlyList<FloodRecord> all)
    {
        int code = all.Any(r => r.Invalid > 0) ? 1 : 0;
        var flooded = all.Where(r => r.Flooded).ToList();
        if (o.Kind == FloodOptions.SlowDestination && flooded.Any(r => r.Counters.GetValueOrDefault("buffer-full") == 0))
        {
            Console.Error.WriteLine("warning: a flooded window counted no buffer-full drop: the relay's send buffer to --slow-destination never filled (is it behind a slow link?)");
            code = 1;
        }

        if (o.Kind == FloodOptions.Stranger && flooded.Any(r => r.Filtering != "address-and-port-dependent"
            && r.Counters.GetValueOrDefault("inbound-filtered") + r.Counters.GetValueOrDefault("inbound-rate-limit") + r.Counters.GetValueOrDefault(ServerCounters.InboundRelayed) == 0))
        {
            Console.Error.WriteLine("warning: a flooded window counted no inbound datagram: the stranger never reached the outbound port");
            code = 1;
        }

        return code;
    }

    /// <summary>The metrics endpoint our server logs at start (bounded wait: the line may follow the listening one).</summary>
    private static IPEndPoint? WaitForMetrics(StartedServer server)
    {
        var deadline = Stopwatch.GetTimestamp() + (5 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (ServerCounters.FindEndpoint(server.Tail) is { } found)
            {
                return found;
            }

            Thread.Sleep(20);
        }

        return null;
    }
}
