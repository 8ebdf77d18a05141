using Socks5UdpRelay.Benchmarks.Infrastructure;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// <c>load --smoke</c> (or <c>smoke</c>) for CI: starts our server, relays a little of every
/// workload and fails unless replies arrive and every one is correct. Never judges a timing.
/// </summary>
internal static class SmokeCommand
{
    public const string Usage = """
        load --smoke | smoke           CI check, a few seconds: starts our server; exit 1 unless replies arrive and are correct (over UDP and over TCP)
        """;

    public static int Run(Args args)
    {
        _ = args.Flag("smoke");
        args.RejectUnknown();
        var opts = new LoadOptions { Duration = 0.5, Warmup = 0.2, Window = 4, Runs = 1 };
        using var server = ServerLauncher.StartOurs(cpu: null, []);
        using var target = new Target("ours", server.EndPoint, server.Pid, null);
        using var echo = new EchoServer();
        var failures = new List<string>();
        foreach (int size in new[] { 64, 1200 })
        {
            // Latency with one association takes the tool's blocking ping-pong path, with two its epoll path.
            foreach (var (workload, window, associations) in new[] { ("throughput", 4, 2), ("latency", 1, 2), ("latency", 1, 1) })
            {
                var r = LoadCommand.Timed(opts, target, echo, 1, workload, size, associations, window);
                Console.WriteLine(r.ToJson());
                if (r.Replies == 0 || r.Invalid > 0)
                {
                    failures.Add($"{workload} {size} B x {associations}: {r.Replies} replies, {r.Invalid} invalid ({r.FirstInvalid ?? "-"})");
                }
            }
        }

        // UDP over TCP: the same frames s5nc --udp-over-tcp sends, with the notices opt-in.
        using var overTcp = target.WithUdpOverTcp();
        foreach (int size in new[] { 64, 1200 })
        {
            foreach (var (workload, window, associations) in new[] { ("throughput", 4, 2), ("latency", 1, 1) })
            {
                var r = LoadCommand.Timed(opts, overTcp, echo, 1, workload, size, associations, window);
                Console.WriteLine(r.ToJson());
                if (r.Replies == 0 || r.Invalid > 0)
                {
                    failures.Add($"{workload} over TCP {size} B x {associations}: {r.Replies} replies, {r.Invalid} invalid ({r.FirstInvalid ?? "-"})");
                }
            }
        }

        var churn = Churn.Run(server.EndPoint, echo.EndPoint, parallel: 2, TimeSpan.FromSeconds(0.5));
        Console.WriteLine($"{{\"kind\":\"smoke-churn\",\"completed\":{churn.Completed},\"failed\":{churn.Failed}}}");
        if (churn.Completed == 0 || churn.Failed > 0)
        {
            failures.Add($"churn: {churn.Completed} completed, {churn.Failed} failed ({churn.FirstFailure ?? "-"})");
        }

        foreach (string f in failures)
        {
            Console.Error.WriteLine($"smoke: FAILED {f}");
        }

        if (failures.Count > 0)
        {
            Console.Error.WriteLine($"server output:\n{server.Tail}");
            return 1;
        }

        Console.Error.WriteLine("smoke: ok (replies arrived through our server and every one was correct)");
        return 0;
    }
}
