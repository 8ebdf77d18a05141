using System.Diagnostics;
using System.Globalization;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Load;

namespace Socks5UdpRelay.Benchmarks.Alloc;

/// <summary>
/// <c>alloc</c>: starts <c>serve-alloc</c> as a child, warms one association with one
/// destination, samples the child's allocated bytes, relays a fixed number of round trips,
/// samples again, and prints bytes per datagram. An idle interval of the same length is
/// measured too and subtracted (timers, logging). Bounded by count and by time.
/// </summary>
internal static class AllocCommand
{
    public const string Usage = """
        alloc [--datagrams N] [--size B] [--window W] [--burst N] [--types]
                                       bytes the server allocates per relayed datagram (default 100000 round trips, 64 B)
        """;

    public static int Run(Args args)
    {
        int roundTrips = Math.Clamp(args.Int("datagrams", 100_000), 1_000, 10_000_000);
        int size = Math.Clamp(args.Int("size", 64), Flow.PayloadPrefix, 65_000);
        int window = Math.Clamp(args.Int("window", 8), 1, 1024);
        int burst = args.Get("burst") is null ? 0 : Math.Clamp(args.Int("burst", 16), 2, 64); // the bulk workload's GSO sends and GRO reads
        bool types = args.Flag("types");
        args.RejectUnknown();

        using var server = types ? StartWithTypes() : ServerLauncher.StartServeAlloc(cpu: null, []);
        using var echo = new EchoServer(segmented: burst > 0);
        using var flow = new Flow(0, server.EndPoint, echo.EndPoint, size, window, burst: burst);
        var sampler = new Sampler(server);

        Drive(flow, window, 20_000, TimeSpan.FromSeconds(30)); // warm-up: JIT tiers, pools, the destination socket
        Thread.Sleep(500);
        var idle0 = sampler.Sample();
        var idleWatch = Stopwatch.StartNew();

        var a0 = sampler.Sample();
        var watch = Stopwatch.StartNew();
        long before = flow.Received;
        Drive(flow, window, roundTrips, TimeSpan.FromSeconds(60));
        long done = flow.Received - before;
        var elapsed = watch.Elapsed;
        var a1 = sampler.Sample();
        if (types)
        {
            sampler.Send("types");
        }

        // The same time with no traffic: what the host allocates on its own.
        var idleLeft = elapsed - idleWatch.Elapsed;
        Thread.Sleep(idleLeft > TimeSpan.Zero ? idleLeft : TimeSpan.Zero);
        Thread.Sleep(elapsed);
        var idle1 = sampler.Sample();
        double idleBytes = (idle1.Bytes - a1.Bytes) * (elapsed.TotalSeconds / Math.Max(1e-9, (idle1.At - a1.At).TotalSeconds));

        long bytes = a1.Bytes - a0.Bytes;
        double datagrams = 2.0 * done; // client→destination and destination→client
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Format(inv,
            "{{\"kind\":\"alloc\",\"round_trips\":{0},\"datagrams\":{1},\"size\":{2},\"seconds\":{3:F2},\"allocated_bytes\":{4},\"idle_bytes_same_time\":{5:F0},\"bytes_per_datagram\":{6:F2},\"bytes_per_datagram_minus_idle\":{7:F2},\"gen0\":{8},\"invalid\":{9}}}",
            done, datagrams, size, elapsed.TotalSeconds, bytes, idleBytes, bytes / datagrams, (bytes - idleBytes) / datagrams, a1.Gen0 - a0.Gen0, flow.Invalid));
        Console.WriteLine(string.Format(inv, "alloc: {0} round trips ({1} datagrams relayed) of {2} B in {3:F2} s: {4} bytes allocated by the server = {5:F2} B/datagram ({6:F2} after subtracting {7:F0} B allocated idle in the same time); {8} gen0 GCs",
            done, datagrams, size, elapsed.TotalSeconds, bytes, bytes / datagrams, (bytes - idleBytes) / datagrams, idleBytes, a1.Gen0 - a0.Gen0));
        _ = idle0;
        return done == roundTrips && flow.Invalid == 0 ? 0 : 1;
    }

    private static StartedServer StartWithTypes()
    {
        Environment.SetEnvironmentVariable("BENCH_ALLOC_TYPES", "1");
        return ServerLauncher.StartServeAlloc(cpu: null, []);
    }

    /// <summary>Keeps <paramref name="window"/> in flight until <paramref name="count"/> more replies, or the time limit.</summary>
    public static void Drive(Flow flow, int window, long count, TimeSpan limit)
    {
        long target = flow.Received + count;
        long lossTicks = (long)(LoadEngine.LossTimeout.TotalSeconds * Stopwatch.Frequency);
        var watch = Stopwatch.StartNew();
        while (flow.Received < target && watch.Elapsed < limit)
        {
            long now = Stopwatch.GetTimestamp();
            flow.ExpireLost(now, lossTicks);
            while (flow.Outstanding < window && flow.Received + flow.Outstanding < target && flow.TrySend(now))
            {
            }

            if (flow.Socket.Poll(TimeSpan.FromMilliseconds(10), System.Net.Sockets.SelectMode.SelectRead))
            {
                flow.Drain(null, refill: false);
            }
        }

        // Let the last replies land so the next phase starts clean.
        var end = Stopwatch.StartNew();
        while (flow.Outstanding > 0 && end.ElapsedMilliseconds < 300)
        {
            if (flow.Socket.Poll(TimeSpan.FromMilliseconds(10), System.Net.Sockets.SelectMode.SelectRead))
            {
                flow.Drain(null, refill: false);
            }
        }

        flow.GiveUp();
    }

    private sealed class Sampler
    {
        private readonly StartedServer _server;
        private readonly BlockingQueue _lines = new();

        public Sampler(StartedServer server)
        {
            _server = server;
            server.Process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } d && (d.StartsWith("ALLOC ", StringComparison.Ordinal) || d.StartsWith("TYPE", StringComparison.Ordinal)))
                {
                    if (d.StartsWith("TYPE", StringComparison.Ordinal))
                    {
                        Console.WriteLine("alloc: sampled " + d);
                    }
                    else
                    {
                        _lines.Add(d);
                    }
                }
            };
        }

        public void Send(string command)
        {
            _server.Process.StandardInput.WriteLine(command);
            _server.Process.StandardInput.Flush();
        }

        public (long Bytes, int Gen0, DateTime At) Sample()
        {
            Send("alloc");
            string line = _lines.Take(TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException($"serve-alloc did not answer:\n{_server.Tail}");
            var f = line.Split(' ');
            return (long.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture), DateTime.UtcNow);
        }
    }

    private sealed class BlockingQueue
    {
        private readonly System.Collections.Concurrent.BlockingCollection<string> _items = [];

        public void Add(string s) => _items.Add(s);

        public string? Take(TimeSpan timeout) => _items.TryTake(out var s, timeout) ? s : null;
    }
}
