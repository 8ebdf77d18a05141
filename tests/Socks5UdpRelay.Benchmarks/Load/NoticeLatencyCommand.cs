using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Native;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// <c>notice-latency</c>: through one association, sends a datagram to a closed loopback UDP
/// port and times how long until the matching <c>UDP-ERROR</c> line arrives on the control
/// connection. One sample in flight; two series: the same destination again (its connected
/// socket exists) and a new closed port each time (socket creation included).
/// </summary>
internal static class NoticeLatencyCommand
{
    public const string Usage = """
        notice-latency [--samples N] [--warmup N] [--proxy HOST:PORT | --server-dll PATH] [--server-cpu N] [--load-cpu N] [--pace-ms MS] [--server-env K=V]
                                       datagram to a closed port → UDP-ERROR on the control connection: the first after the server
                                       started, then median, p99 (default 200 samples); --server-dll runs another build (a publish)
        """;

    public static int Run(Args args)
    {
        int samples = Math.Clamp(args.Int("samples", 200), 10, 100_000);
        int warmup = Math.Clamp(args.Int("warmup", 0), 0, 100_000);
        int paceMs = Math.Clamp(args.Int("pace-ms", 2), 0, 10_000);
        string? proxy = args.Get("proxy");
        string? dll = args.Get("server-dll");
        int? serverCpu = args.Get("server-cpu") is null ? null : args.Int("server-cpu", 0);
        int? loadCpu = args.Get("load-cpu") is null ? null : args.Int("load-cpu", 0);
        var env = args.All("server-env").Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
        args.RejectUnknown();
        if (loadCpu is { } c)
        {
            CpuAffinity.PinProcess(c);
        }

        // Our server is started with the notice rate limit raised (ServerLauncher.OurDefaultArgs);
        // an external proxy with the default limit (5/s per destination) needs --pace-ms 250.
        using var target = proxy is null ? new Target("ours", null, null, ServerLauncher.StartOurs(serverCpu, [], dll, env)) : Target.Parse("proxy=" + proxy);
        var endpoint = target.Started?.EndPoint ?? target.Proxy!;
        using var control = SocksControl.Associate(endpoint);
        byte[] line = new byte[NoticeFormat.MaxLineLength];
        if (!control.TryReadLine(line, out int n, 2_000) || !SocksControl.Text(line.AsSpan(0, n)).StartsWith("NOTICES ", StringComparison.Ordinal))
        {
            Console.Error.WriteLine("notice-latency: the proxy did not send NOTICES version=1 (not a notice-capable server)");
            return 1;
        }

        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var relay = RawUdp.Sockaddr(control.Relay);
        int fd = RawUdp.Fd(udp);

        int repeatedPort = ClosedPort();
        // The server's first error since it started (the destination socket opens with it).
        double first = Sample(control, fd, relay, repeatedPort, line);
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{{\"kind\":\"notice-latency\",\"series\":\"first\",\"us\":{0:F1}}}", first));
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "notice-latency first after start: {0:F1} µs", first));

        // Optional warm-up, not measured: a fresh server JIT-compiles its error path on the first
        // errors (a few ms once); --warmup shows the steady state apart from that one-time cost.
        Series(warmup, paceMs, () => Sample(control, fd, relay, repeatedPort, line));
        Series(warmup, paceMs, () => Sample(control, fd, relay, ClosedPort(), line));
        var same = Series(samples, paceMs, () => Sample(control, fd, relay, repeatedPort, line));
        var fresh = Series(samples, paceMs, () => Sample(control, fd, relay, ClosedPort(), line));

        var inv = CultureInfo.InvariantCulture;
        foreach (var (name, s) in new[] { ("same-destination", same), ("new-destination", fresh) })
        {
            Console.WriteLine(string.Format(inv, "{{\"kind\":\"notice-latency\",\"series\":\"{0}\",\"samples\":{1},\"missing\":{2},\"p50_us\":{3:F1},\"p90_us\":{4:F1},\"p99_us\":{5:F1},\"max_us\":{6:F1}}}",
                name, s.Hist.Count, s.Missing, s.Hist.Percentile(0.5), s.Hist.Percentile(0.9), s.Hist.Percentile(0.99), s.Hist.MaxMicroseconds));
            Console.WriteLine(string.Format(inv, "notice-latency {0,-17}: {1} samples, {2} missing; median {3:F1} µs, p90 {4:F1} µs, p99 {5:F1} µs, max {6:F1} µs",
                name, s.Hist.Count, s.Missing, s.Hist.Percentile(0.5), s.Hist.Percentile(0.9), s.Hist.Percentile(0.99), s.Hist.MaxMicroseconds));
        }

        return same.Missing == 0 && fresh.Missing == 0 ? 0 : 1;
    }

    private static (LatencyHistogram Hist, int Missing) Series(int samples, int paceMs, Func<double> sample)
    {
        var h = new LatencyHistogram();
        int missing = 0;
        var limit = Stopwatch.StartNew();
        for (int i = 0; i < samples && limit.Elapsed < TimeSpan.FromMinutes(2); i++)
        {
            double us = sample();
            if (double.IsNaN(us))
            {
                missing++;
            }
            else
            {
                h.Record((long)(us * 1000));
            }

            if (paceMs > 0)
            {
                Thread.Sleep(paceMs);
            }
        }

        return (h, missing);
    }

    /// <summary>Microseconds from sending to a closed port until the UDP-ERROR naming it; NaN after 1 s.</summary>
    private static double Sample(SocksControl control, int fd, byte[] relay, int port, byte[] line)
    {
        Span<byte> datagram = stackalloc byte[UdpRequestHeader.IPv4Length + 16];
        int h = UdpRequestHeader.Write(datagram, IPAddress.Loopback, (ushort)port);
        "notice-latency.."u8.CopyTo(datagram[h..]);
        long t0 = Stopwatch.GetTimestamp();
        if (!RawUdp.Send(fd, datagram[..(h + 16)], relay))
        {
            return double.NaN;
        }

        string expected = $"127.0.0.1:{port}";
        while (Stopwatch.GetElapsedTime(t0) < TimeSpan.FromSeconds(1))
        {
            if (!control.TryReadLine(line, out int n, 1_000))
            {
                return double.NaN;
            }

            long t1 = Stopwatch.GetTimestamp();
            var reader = new NoticeLineReader(line.AsSpan(0, n));
            if (!reader.Verb.SequenceEqual("UDP-ERROR"u8))
            {
                continue;
            }

            while (reader.TryReadField(out var key, out var value))
            {
                if (key.SequenceEqual("dst"u8) && SocksControl.Text(value) == expected)
                {
                    return Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds;
                }
            }
        }

        return double.NaN;
    }

    /// <summary>A loopback UDP port nobody holds: bound, read back, closed.</summary>
    private static int ClosedPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }
}
