using System.Globalization;
using System.Text.Json;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Native;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// <c>load</c>: throughput, latency and churn through each target, with medians over runs,
/// a table, ratios, and one JSON line per run.
/// </summary>
internal static class LoadCommand
{
    public const string Usage = """
        load [options]                 throughput, latency and churn through proxies and direct
          --target NAME=HOST:PORT      a running proxy on loopback (repeatable); 'direct' = no proxy
          --proxy HOST:PORT            same as --target proxy=HOST:PORT
          --start-server ours|dante    start our server (out of process) / Dante (run-dante.sh) (repeatable)
                                       default when no target is given: --start-server ours --target direct
          --server-cpu N               pin started servers to CPU N (taskset -c N)
          --load-cpu N                 pin this tool (load and echo threads) to CPU N
          --workloads LIST             throughput,latency,churn (default all three); bulk: throughput as QUIC
                                       stacks send, --burst datagrams per GSO send, read with GRO (echo too)
          --burst N                    datagrams per GSO send for the bulk workload (default 16, at most 64)
          --transport LIST             udp,tcp: tcp measures each proxy again over its TCP connection (UDP over TCP,
                                       CMD 0x05 with the notices opt-in), as NAME-tcp; churn is UDP only, and
                                       bulk over TCP sends its datagrams one frame at a time (default udp)
          --sizes LIST                 payload bytes (default 64,1200)
          --associations LIST          associations per run (default 1,16)
          --window W                   datagrams in flight per association for throughput (default 32)
          --duration S                 measured seconds per run (default 3)
          --warmup S                   seconds of the same load before measuring (default 1)
          --runs R                     repetitions; the table shows medians (default 3)
          --load-threads N             epoll worker threads (default 1)
          --echo-threads N             echo target threads (default 1)
          --server-env K=V             environment for our started server (repeatable)
          --server-arg ARG             extra argument for our started server, e.g. --Relay:Notices=off
          --idle-associations N        hold N idle associations (one destination each) on every proxy during the runs
          --flow-stream                with --start-server ours: also measure target 'ours-stream', the same server
                                       while a reader takes its flow stream (README "Flow view"), run by run
        """;

    public static int Run(Args args)
    {
        var opts = LoadOptions.From(args);
        args.RejectUnknown();
        if (opts.LoadCpu is { } cpu)
        {
            CpuAffinity.PinProcess(cpu);
        }

        var targets = new List<Target>();
        var idle = new List<IdleAssociations>();
        try
        {
            targets.AddRange(StartTargets(opts));
            using var echo = new EchoServer(opts.EchoThreads);
            using var bulkEcho = opts.Workloads.Contains("bulk") ? new EchoServer(opts.EchoThreads, segmented: true) : null;
            foreach (var proxy in targets.Select(t => t.Proxy).OfType<System.Net.IPEndPoint>().Distinct().Where(_ => opts.IdleAssociations > 0))
            {
                var held = IdleAssociations.Start(proxy, echo.EndPoint, opts.IdleAssociations, parallel: 16, TimeSpan.FromSeconds(120));
                idle.Add(held);
                Console.Error.WriteLine($"{held.Open} of {opts.IdleAssociations} idle associations open on {proxy} in {held.OpenTime.TotalSeconds:F1} s{(held.Failures.FirstOrDefault() is { } f ? $"; first failure: {f}" : "")}");
            }

            Console.Error.WriteLine($"echo target {echo.EndPoint}; targets: {string.Join(", ", targets.Select(t => $"{t.Name}={(t.Proxy?.ToString() ?? "-")}{(t.Pid is { } p ? $" (pid {p})" : "")}"))}");
            var all = new List<RunRecord>();
            for (int run = 1; run <= opts.Runs; run++)
            {
                foreach (var target in targets)
                {
                    foreach (var record in RunOnce(opts, target, echo, bulkEcho, run))
                    {
                        Console.WriteLine(record.ToJson());
                        all.Add(record);
                    }
                }
            }

            Report.PrintTable(Console.Out, all, targets.Select(t => t.Name).ToList());
            return all.Any(r => r.Invalid > 0) ? 1 : 0;
        }
        finally
        {
            idle.ForEach(i => i.Dispose());
            foreach (var t in targets)
            {
                t.Dispose();
            }
        }
    }

    public static IEnumerable<Target> StartTargets(LoadOptions opts)
    {
        var started = new List<Target>();
        foreach (string name in opts.StartServers)
        {
            StartedServer server = name switch
            {
                "ours" => ServerLauncher.StartOurs(opts.ServerCpu, opts.ServerArgs, environment: opts.ServerEnv),
                "dante" => ServerLauncher.StartDante(opts.ServerCpu),
                _ => throw new UsageException($"--start-server {name}: ours or dante"),
            };
            started.Add(new Target(name, server.EndPoint, server.Pid, server));
            if (name == "ours" && opts.FlowStreamToken is { } token)
            {
                started.Add(new Target("ours-stream", server.EndPoint, server.Pid, started: null) { FlowStream = (FlowViewEndpoint(server), token) });
            }
        }

        var all = started.Concat(opts.Targets.Select(Target.Parse)).ToList();
        var overTcp = opts.Transports.Contains("tcp") ? all.Where(t => t.Proxy is not null).Select(t => t.WithUdpOverTcp()).ToList() : [];
        return opts.Transports.Contains("udp") ? [.. all, .. overTcp] : [.. all.Where(t => t.Proxy is null), .. overTcp];
    }

    /// <summary>Where our server's flow view listens, from the line it logs once bound.</summary>
    private static System.Net.IPEndPoint FlowViewEndpoint(StartedServer server)
    {
        var line = new System.Text.RegularExpressions.Regex(@"Flow view on http://(?<ep>[0-9.]+:\d+)/");
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(10); Thread.Sleep(20))
        {
            if (line.Match(server.Tail) is { Success: true } m)
            {
                return System.Net.IPEndPoint.Parse(m.Groups["ep"].Value);
            }
        }

        throw new InvalidOperationException($"our server did not say where its flow view is:\n{server.Tail}");
    }

    private static IEnumerable<RunRecord> RunOnce(LoadOptions o, Target target, EchoServer echo, EchoServer? bulkEcho, int run)
    {
        if (target.FlowStream is not { } stream)
        {
            foreach (var record in Workloads(o, target, echo, bulkEcho, run))
            {
                yield return record;
            }

            yield break;
        }

        using var subscriber = FlowStreamSubscriber.Start(stream.Endpoint, stream.Token);
        foreach (var record in Workloads(o, target, echo, bulkEcho, run))
        {
            yield return record;
        }

        Console.Error.WriteLine($"run {run}, {target.Name}: the flow stream brought {subscriber.Events} events, {subscriber.Bytes} bytes");
    }

    private static IEnumerable<RunRecord> Workloads(LoadOptions o, Target target, EchoServer echo, EchoServer? bulkEcho, int run)
    {
        foreach (string workload in o.Workloads)
        {
            if (workload == "churn" && target.OverTcp)
            {
                continue;
            }

            var sizes = workload == "churn" ? [64] : o.Sizes;
            foreach (int size in sizes)
            {
                foreach (int associations in o.Associations)
                {
                    yield return workload switch
                    {
                        "throughput" => Timed(o, target, echo, run, workload, size, associations, o.Window),
                        "latency" => Timed(o, target, echo, run, workload, size, associations, 1),
                        "bulk" => Timed(o, target, bulkEcho!, run, workload, size, associations, o.Window, o.Burst),
                        "churn" => ChurnRun(o, target, echo, run, associations),
                        _ => throw new UsageException($"--workloads: unknown '{workload}'"),
                    };
                }
            }
        }
    }

    public static RunRecord Timed(LoadOptions o, Target target, EchoServer echo, int run, string workload, int size, int associations, int window, int burst = 0)
    {
        var flows = new List<Flow>();
        try
        {
            for (int i = 0; i < associations; i++)
            {
                flows.Add(new Flow(i, target.Proxy, echo.EndPoint, size, window, overTcp: target.OverTcp, burst: target.OverTcp ? 0 : burst));
            }

            double cpu0 = 0, cpu1 = 0, self0 = 0, self1 = 0;
            var result = LoadEngine.Run(flows, window, TimeSpan.FromSeconds(o.Warmup), TimeSpan.FromSeconds(o.Duration), o.LoadThreads,
                () => { cpu0 = target.CpuSeconds(); self0 = ProcessStats.SelfCpuSeconds(); },
                () => { cpu1 = target.CpuSeconds(); self1 = ProcessStats.SelfCpuSeconds(); });
            return new RunRecord
            {
                Target = target.Name, Workload = workload, Size = size, Associations = associations, Window = window, Run = run,
                Seconds = result.Seconds, Sent = result.Sent, Replies = result.Replies, PerSecond = result.RepliesPerSecond,
                LossPercent = result.LossPercent, Invalid = result.Invalid, Late = result.Late, SendFailed = result.SendFailed,
                FirstInvalid = result.FirstInvalid,
                P50 = result.Latency.Percentile(0.50), P90 = result.Latency.Percentile(0.90), P99 = result.Latency.Percentile(0.99), Max = result.Latency.MaxMicroseconds,
                ServerCpuUsPerRoundTrip = result.Replies > 0 ? (cpu1 - cpu0) * 1e6 / result.Replies : double.NaN,
                ServerCpuPercent = (cpu1 - cpu0) * 100 / result.Seconds,
                LoadCpuPercent = (self1 - self0) * 100 / result.Seconds,
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

    private static RunRecord ChurnRun(LoadOptions o, Target target, EchoServer echo, int run, int parallel)
    {
        double cpu0 = 0, cpu1 = 0, self0 = 0, self1 = 0;
        var r = Churn.Run(target.Proxy, echo.EndPoint, parallel, TimeSpan.FromSeconds(o.Duration),
            () => { cpu0 = target.CpuSeconds(); self0 = ProcessStats.SelfCpuSeconds(); },
            () => { cpu1 = target.CpuSeconds(); self1 = ProcessStats.SelfCpuSeconds(); });
        return new RunRecord
        {
            Target = target.Name, Workload = "churn", Size = 64, Associations = parallel, Window = 1, Run = run,
            Seconds = r.Seconds, Sent = r.Completed + r.Failed, Replies = r.Completed, PerSecond = r.PerSecond,
            LossPercent = r.Completed + r.Failed > 0 ? 100.0 * r.Failed / (r.Completed + r.Failed) : 0, Invalid = 0, FirstInvalid = r.FirstFailure,
            P50 = r.OpenToReply.Percentile(0.5), P90 = r.OpenToReply.Percentile(0.9), P99 = r.OpenToReply.Percentile(0.99), Max = r.OpenToReply.MaxMicroseconds,
            ServerCpuUsPerRoundTrip = r.Completed > 0 ? (cpu1 - cpu0) * 1e6 / r.Completed : double.NaN,
            ServerCpuPercent = (cpu1 - cpu0) * 100 / r.Seconds,
            LoadCpuPercent = (self1 - self0) * 100 / r.Seconds,
        };
    }
}

internal sealed class LoadOptions
{
    public List<string> Targets { get; } = [];

    public List<string> StartServers { get; } = [];

    public int? ServerCpu { get; set; }

    public int? LoadCpu { get; set; }

    public string[] Workloads { get; set; } = ["throughput", "latency", "churn"];

    public string[] Transports { get; set; } = ["udp"];

    public int[] Sizes { get; set; } = [64, 1200];

    public int[] Associations { get; set; } = [1, 16];

    public int Window { get; set; } = 32;

    public double Duration { get; set; } = 3;

    public double Warmup { get; set; } = 1;

    public int Runs { get; set; } = 3;

    public int LoadThreads { get; set; } = 1;

    public int EchoThreads { get; set; } = 1;

    /// <summary>Datagrams per GSO send in the bulk workload.</summary>
    public int Burst { get; set; } = 16;

    public Dictionary<string, string> ServerEnv { get; } = [];

    public List<string> ServerArgs { get; } = [];

    public int IdleAssociations { get; set; }

    /// <summary>The token our started server's flow view gets with <c>--flow-stream</c>; null without.</summary>
    public string? FlowStreamToken { get; set; }

    public static LoadOptions From(Args a)
    {
        var o = new LoadOptions();
        o.Targets.AddRange(a.All("target"));
        o.Targets.AddRange(a.All("proxy").Select(p => "proxy=" + p));
        o.StartServers.AddRange(a.Strings("start-server", []));
        if (o.Targets.Count == 0 && o.StartServers.Count == 0)
        {
            o.StartServers.Add("ours");
            o.Targets.Add("direct");
        }

        o.ServerCpu = a.Get("server-cpu") is null ? null : a.Int("server-cpu", 0);
        o.LoadCpu = a.Get("load-cpu") is null ? null : a.Int("load-cpu", 0);
        o.Workloads = a.Strings("workloads", o.Workloads);
        o.Transports = a.Strings("transport", o.Transports);
        if (o.Transports.Length == 0 || o.Transports.Any(t => t is not ("udp" or "tcp")))
        {
            throw new UsageException("--transport: udp, tcp or udp,tcp");
        }

        o.Sizes = a.Ints("sizes", o.Sizes);
        o.Associations = a.Ints("associations", o.Associations);
        o.Window = Math.Clamp(a.Int("window", o.Window), 1, 4096);
        o.Duration = Math.Clamp(a.Double("duration", o.Duration), 0.1, 600);
        o.Warmup = Math.Clamp(a.Double("warmup", o.Warmup), 0, 60);
        o.Runs = Math.Clamp(a.Int("runs", o.Runs), 1, 100);
        o.LoadThreads = Math.Clamp(a.Int("load-threads", o.LoadThreads), 1, 64);
        o.EchoThreads = Math.Clamp(a.Int("echo-threads", o.EchoThreads), 1, 64);
        o.Burst = Math.Clamp(a.Int("burst", o.Burst), 2, 64);
        foreach (string kv in a.All("server-env"))
        {
            int eq = kv.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new UsageException($"--server-env {kv}: expected K=V");
            }

            o.ServerEnv[kv[..eq]] = kv[(eq + 1)..];
        }

        o.ServerArgs.AddRange(a.All("server-arg"));
        o.IdleAssociations = Math.Clamp(a.Int("idle-associations", 0), 0, 5_000);
        if (o.IdleAssociations > 0)
        {
            // Room for them beside the measured ones: every association comes from 127.0.0.1.
            int room = o.IdleAssociations + 5_000 + 64;
            o.ServerArgs.AddRange([$"--Limits:MaxAssociationsPerClient={room}", $"--Limits:MaxConnectionsPerClient={room}", $"--Limits:MaxConnections={room}"]);
        }

        if (a.Flag("flow-stream"))
        {
            if (!o.StartServers.Contains("ours"))
            {
                throw new UsageException("--flow-stream needs --start-server ours (the tool gives that server its token)");
            }

            o.FlowStreamToken = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            o.ServerArgs.AddRange(["--Metrics:Enabled=true", "--Metrics:Listen=127.0.0.1:0", $"--Admin:Token={o.FlowStreamToken}"]);
        }
        if (o.Sizes.Any(s => s < Flow.PayloadPrefix || s > 65_000) || o.Associations.Any(n => n < 1 || n > 5_000))
        {
            throw new UsageException($"--sizes {Flow.PayloadPrefix}..65000, --associations 1..5000");
        }

        return o;
    }
}

/// <summary>One run's figures: a JSON line for scripts, a row for people.</summary>
internal sealed class RunRecord
{
    public string Target { get; init; } = "";

    public string Workload { get; init; } = "";

    public int Size { get; init; }

    public int Associations { get; init; }

    public int Window { get; init; }

    public int Run { get; init; }

    public double Seconds { get; init; }

    public long Sent { get; init; }

    public long Replies { get; init; }

    public double PerSecond { get; init; }

    public double LossPercent { get; init; }

    public long Invalid { get; init; }

    public long Late { get; init; }

    public long SendFailed { get; init; }

    public string? FirstInvalid { get; init; }

    public double P50 { get; init; }

    public double P90 { get; init; }

    public double P99 { get; init; }

    public double Max { get; init; }

    public double ServerCpuUsPerRoundTrip { get; init; }

    public double ServerCpuPercent { get; init; }

    public double LoadCpuPercent { get; init; }

    public string Key => $"{Workload}/{Size}/{Associations}";

    public string ToJson()
    {
        var d = new Dictionary<string, object?>
        {
            ["kind"] = "run", ["target"] = Target, ["workload"] = Workload, ["size"] = Size, ["associations"] = Associations,
            ["window"] = Window, ["run"] = Run, ["seconds"] = Seconds, ["sent"] = Sent, ["replies"] = Replies,
            ["per_second"] = Round(PerSecond), ["loss_pct"] = Round(LossPercent, 3), ["invalid"] = Invalid, ["late"] = Late,
            ["send_failed"] = SendFailed, ["first_invalid"] = FirstInvalid,
            ["p50_us"] = Round(P50, 1), ["p90_us"] = Round(P90, 1), ["p99_us"] = Round(P99, 1), ["max_us"] = Round(Max, 1),
            ["server_cpu_us_per_rt"] = Round(ServerCpuUsPerRoundTrip, 2), ["server_cpu_pct"] = Round(ServerCpuPercent, 1),
            ["load_cpu_pct"] = Round(LoadCpuPercent, 1),
        };
        return JsonSerializer.Serialize(d);
    }

    private static double? Round(double v, int digits = 0) => double.IsFinite(v) ? Math.Round(v, digits) : null;
}

internal static class Report
{
    public static void PrintTable(TextWriter w, IReadOnlyList<RunRecord> all, IReadOnlyList<string> targets)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine();
        w.WriteLine($"Medians of {all.Select(r => r.Run).DefaultIfEmpty(0).Max()} run(s). per_s = replies/s (churn: associations/s); RTT in µs (churn: open→reply);");
        w.WriteLine("srv µs/rt = server CPU (utime+stime of its process tree) per round trip; srv% and load% = CPU of one core;\n"
            + "spread% = (max - min) / median of per_s over the runs.");
        w.WriteLine();
        w.WriteLine(string.Format(inv, "{0,-11} {1,-10} {2,5} {3,5} {4,10} {14,7} {5,7} {6,8} {7,8} {8,8} {9,9} {10,9} {11,6} {12,6} {13,7}",
            "target", "workload", "size", "assoc", "per_s", "loss%", "p50", "p90", "p99", "max", "srv µs/rt", "srv%", "load%", "invalid", "spread%"));
        var groups = all.GroupBy(r => (r.Key, r.Target)).ToList();
        foreach (var g in groups.OrderBy(g => g.First().Workload).ThenBy(g => g.First().Size).ThenBy(g => g.First().Associations).ThenBy(g => targets.ToList().IndexOf(g.Key.Target)))
        {
            var rs = g.ToList();
            var f = rs[0];
            w.WriteLine(string.Format(inv, "{0,-11} {1,-10} {2,5} {3,5} {4,10:F0} {14,7:F0} {5,7:F2} {6,8:F1} {7,8:F1} {8,8:F1} {9,9:F0} {10,9:F2} {11,6:F0} {12,6:F0} {13,7}",
                f.Target, f.Workload, f.Size, f.Associations, Median(rs, r => r.PerSecond), Median(rs, r => r.LossPercent),
                Median(rs, r => r.P50), Median(rs, r => r.P90), Median(rs, r => r.P99), Median(rs, r => r.Max),
                Median(rs, r => r.ServerCpuUsPerRoundTrip), Median(rs, r => r.ServerCpuPercent), Median(rs, r => r.LoadCpuPercent), rs.Sum(r => r.Invalid),
                100 * (rs.Max(r => r.PerSecond) - rs.Min(r => r.PerSecond)) / Median(rs, r => r.PerSecond)));
        }

        if (!targets.Contains("ours") || targets.Count < 2)
        {
            return;
        }

        var ratios = new List<string>();
        foreach (string other in targets.Where(t => t != "ours"))
        {
            foreach (var key in all.Select(r => r.Key).Distinct())
            {
                var a = all.Where(r => r.Key == key && r.Target == "ours").ToList();
                var b = all.Where(r => r.Key == key && r.Target == other).ToList();
                if (a.Count == 0 || b.Count == 0)
                {
                    continue;
                }

                ratios.Add(string.Format(inv, "  ours/{0,-11} {1,-22} per_s {2,6:F2}   p50 {3,6:F2}   p99 {4,6:F2}",
                    other, key, Median(a, r => r.PerSecond) / Median(b, r => r.PerSecond), Median(a, r => r.P50) / Median(b, r => r.P50), Median(a, r => r.P99) / Median(b, r => r.P99)));
                var jd = new Dictionary<string, object?>
                {
                    ["kind"] = "ratio", ["of"] = "ours", ["to"] = other, ["key"] = key,
                    ["per_second"] = Math.Round(Median(a, r => r.PerSecond) / Median(b, r => r.PerSecond), 3),
                    ["p50"] = Math.Round(Median(a, r => r.P50) / Median(b, r => r.P50), 3),
                    ["p99"] = Math.Round(Median(a, r => r.P99) / Median(b, r => r.P99), 3),
                };
                w.WriteLine(JsonSerializer.Serialize(jd));
            }
        }

        w.WriteLine();
        w.WriteLine("Ratios of medians (ours / other): per_s (higher is better for ours), p50 and p99 RTT (lower is better for ours)");
        foreach (string line in ratios)
        {
            w.WriteLine(line);
        }
    }

    public static double Median(IEnumerable<RunRecord> rs, Func<RunRecord, double> f)
    {
        var v = rs.Select(f).Where(double.IsFinite).OrderBy(x => x).ToList();
        if (v.Count == 0)
        {
            return double.NaN;
        }

        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[(v.Count / 2) - 1] + v[v.Count / 2]) / 2;
    }
}
