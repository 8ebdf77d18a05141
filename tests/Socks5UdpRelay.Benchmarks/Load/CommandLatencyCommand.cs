using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Native;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// <c>command-latency</c>: the client commands' cost (README, "Client commands"). Through one
/// association: the time from writing <c>SET dst=… ttl=N</c> to reading its <c>SET-OK</c>, one
/// command in flight, TTLs alternating so each one changes the socket; then <c>--maps</c>
/// mappings held at once (<c>MAP</c> → <c>MAP-OK</c>, each sending one datagram so its outbound
/// socket exists) and what they cost the server: file descriptors and RSS per mapping.
/// </summary>
internal static class CommandLatencyCommand
{
    public const string Usage = """
        command-latency [--samples N] [--maps N] [--server-cpu N] [--load-cpu N]
                                       SET → SET-OK round trip (median, p99; default 2000 samples), MAP → MAP-OK, and
                                       the fds and RSS a mapping costs the server (default 200 mappings)
        """;

    public static int Run(Args args)
    {
        int samples = Math.Clamp(args.Int("samples", 2000), 10, 100_000);
        int maps = Math.Clamp(args.Int("maps", 200), 1, 4096);
        int? serverCpu = args.Get("server-cpu") is null ? null : args.Int("server-cpu", 0);
        int? loadCpu = args.Get("load-cpu") is null ? null : args.Int("load-cpu", 0);
        args.RejectUnknown();
        if (loadCpu is { } c)
        {
            CpuAffinity.PinProcess(c);
        }

        using var server = ServerLauncher.StartOurs(serverCpu, ["--Relay:CommandsPerSecond=1000000", "--Relay:CommandBurst=1000000", $"--Relay:MaxMappingsPerAssociation={maps + 1}"]);
        using var control = SocksControl.Associate(server.EndPoint);
        byte[] line = new byte[1024];
        using var echo = new EchoServer();
        string dst = $"127.0.0.1:{echo.EndPoint.Port}";

        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        // The destination's socket exists before the first SET (the common case: a trace's first probe).
        byte[] datagram = new byte[10 + 4];
        Protocol.UdpRequestHeader.Write(datagram, echo.EndPoint.Address, (ushort)echo.EndPoint.Port);
        udp.SendTo(datagram, control.Relay);

        var set = new LatencyHistogram();
        int failed = 0;
        for (int i = 0; i < samples; i++)
        {
            double us = RoundTrip(control, $"SET dst={dst} ttl={1 + (i % 64)}\n", "SET-OK ", line);
            if (double.IsNaN(us))
            {
                failed++;
                continue;
            }

            set.Record((long)(us * 1000));
        }

        long rss0 = ProcessStats.RssBytes(server.Pid);
        int fds0 = ProcessStats.OpenFds(server.Pid);
        var map = new LatencyHistogram();
        for (int i = 1; i <= maps; i++)
        {
            double us = RoundTrip(control, "MAP\n", "MAP-OK ", line);
            if (double.IsNaN(us))
            {
                failed++;
                break;
            }

            map.Record((long)(us * 1000));
            // RSV carries the mapping (README): its first datagram opens the mapping's socket to dst.
            datagram[0] = (byte)(i >> 8);
            datagram[1] = (byte)i;
            udp.SendTo(datagram, control.Relay);
        }

        // Every mapping's datagram has been relayed once its echo is back (or 2 s have passed).
        var drained = Stopwatch.StartNew();
        while (echo.Echoed < maps + 1 && drained.Elapsed < TimeSpan.FromSeconds(2))
        {
            Thread.Sleep(10);
        }

        long rss1 = ProcessStats.RssBytes(server.Pid);
        int fds1 = ProcessStats.OpenFds(server.Pid);
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Format(inv, "command-latency SET -> SET-OK: {0} samples, {1} failed; median {2:F1} µs, p90 {3:F1} µs, p99 {4:F1} µs, max {5:F1} µs",
            set.Count, failed, set.Percentile(0.5), set.Percentile(0.9), set.Percentile(0.99), set.MaxMicroseconds));
        Console.WriteLine(string.Format(inv, "command-latency MAP -> MAP-OK: {0} mappings; median {1:F1} µs, p99 {2:F1} µs",
            map.Count, map.Percentile(0.5), map.Percentile(0.99)));
        Console.WriteLine(string.Format(inv, "mapping cost: {0} mappings with one destination each: {1} fds ({2:F2} per mapping), RSS {3:F1} MiB -> {4:F1} MiB ({5:F1} KiB per mapping; {6} datagrams echoed)",
            map.Count, fds1 - fds0, (fds1 - fds0) / (double)Math.Max(1, map.Count), rss0 / 1048576.0, rss1 / 1048576.0, (rss1 - rss0) / 1024.0 / Math.Max(1, map.Count), echo.Echoed));
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Microseconds from writing <paramref name="command"/> to reading a line that starts with <paramref name="answer"/>; NaN after 1 s or on any other answer.</summary>
    private static double RoundTrip(SocksControl control, string command, string answer, byte[] line)
    {
        long t0 = Stopwatch.GetTimestamp();
        control.Tcp.Send(Encoding.ASCII.GetBytes(command));
        while (control.TryReadLine(line, out int n, 1_000))
        {
            string text = SocksControl.Text(line.AsSpan(0, n));
            if (text.StartsWith(answer, StringComparison.Ordinal))
            {
                return Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }

            if (text.Contains("-FAILED", StringComparison.Ordinal))
            {
                Console.Error.WriteLine($"command-latency: {command.TrimEnd()} answered {text}");
                return double.NaN;
            }
        }

        return double.NaN;
    }
}
