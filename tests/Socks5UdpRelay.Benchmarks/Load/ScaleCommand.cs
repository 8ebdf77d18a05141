using System.Diagnostics;
using System.Globalization;
using Socks5UdpRelay.Benchmarks.Infrastructure;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// <c>scale</c>: holds N concurrent idle associations, each with one destination (one checked
/// round trip to the echo target), in one server process; reports the time to open them, the
/// server's VmRSS and descriptors before, with all open, and after closing them.
/// </summary>
internal static class ScaleCommand
{
    public const string Usage = """
        scale [--associations N] [--parallel P] [--proxy HOST:PORT] [--server-cpu N] [--server-env K=V] [--hold S]
                                       N idle associations (default 5000) held by one server: open time, VmRSS, fds
                                       (--hold: keep them open S more seconds, e.g. for dotnet-gcdump)
        """;

    public static int Run(Args args)
    {
        int count = Math.Clamp(args.Ints("associations", [5_000])[0], 1, 6_000);
        int parallel = Math.Clamp(args.Int("parallel", 16), 1, 256);
        string? proxy = args.Get("proxy");
        int? serverCpu = args.Get("server-cpu") is null ? null : args.Int("server-cpu", 0);
        var env = args.All("server-env").Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
        int hold = Math.Clamp(args.Int("hold", 0), 0, 600);
        args.RejectUnknown();

        // Both sides hold about four descriptors per association.
        Native.DescriptorLimit.AtLeast((ulong)(count * 5) + 1_024);
        using var target = proxy is null
            // One client holds them all: the per-client and total limits are raised to the count.
            ? new Target("ours", null, null, ServerLauncher.StartOurs(serverCpu, [
                $"--Limits:MaxConnections={count + 16}", $"--Limits:MaxConnectionsPerClient={count + 16}", $"--Limits:MaxAssociationsPerClient={count}"], environment: env))
            : Target.Parse("proxy=" + proxy);
        var endpoint = target.Started?.EndPoint ?? target.Proxy!;
        int pid = target.Started?.Pid ?? target.Pid ?? throw new InvalidOperationException("the proxy's process was not found (its RSS is the point)");
        using var echo = new EchoServer();
        Thread.Sleep(500);
        long rss0 = ProcessStats.RssBytes(pid);
        int fds0 = ProcessStats.OpenFds(pid);

        var idle = IdleAssociations.Start(endpoint, echo.EndPoint, count, parallel, TimeSpan.FromSeconds(120));
        var openTime = idle.OpenTime;
        int open = idle.Open;
        var failures = idle.Failures;

        Thread.Sleep(1_000); // let the server settle (logging, pools)
        long rss1 = ProcessStats.RssBytes(pid);
        int fds1 = ProcessStats.OpenFds(pid);
        if (hold > 0)
        {
            Console.Error.WriteLine($"scale: {open} associations open on server pid {pid}; holding them {hold} s");
            Thread.Sleep(TimeSpan.FromSeconds(hold));
        }

        idle.Dispose();

        Thread.Sleep(2_000);
        long rss2 = ProcessStats.RssBytes(pid);
        if (rss2 == 0 && target.Started is { } started)
        {
            Console.Error.WriteLine($"scale: the server is gone after the associations closed; its last lines:\n{started.Tail}");
        }
        int fds2 = ProcessStats.OpenFds(pid);

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Format(inv,
            "{{\"kind\":\"scale\",\"associations\":{0},\"open\":{1},\"failed\":{2},\"open_seconds\":{3:F2},\"opens_per_second\":{4:F0},\"rss_before_mb\":{5:F1},\"rss_open_mb\":{6:F1},\"rss_after_close_mb\":{7:F1},\"rss_per_association_kb\":{8:F2},\"fds_before\":{9},\"fds_open\":{10},\"fds_after_close\":{11}}}",
            count, open, failures.Count, openTime.TotalSeconds, open / openTime.TotalSeconds, rss0 / 1048576.0, rss1 / 1048576.0, rss2 / 1048576.0,
            (rss1 - rss0) / 1024.0 / Math.Max(1, open), fds0, fds1, fds2));
        Console.WriteLine(string.Format(inv,
            "scale: {0} of {1} associations open (one destination each) in {2:F2} s ({3:F0}/s); server VmRSS {4:F1} MB before, {5:F1} MB with all open ({6:F1} KB each), {7:F1} MB after closing; fds {8} → {9} → {10}",
            open, count, openTime.TotalSeconds, open / openTime.TotalSeconds, rss0 / 1048576.0, rss1 / 1048576.0, (rss1 - rss0) / 1024.0 / Math.Max(1, open), rss2 / 1048576.0, fds0, fds1, fds2));
        foreach (string f in failures.Take(5))
        {
            Console.Error.WriteLine($"scale: {f}");
        }

        return open == count ? 0 : 1;
    }
}
