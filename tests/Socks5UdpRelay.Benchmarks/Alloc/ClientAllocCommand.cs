using System.Diagnostics;
using System.Globalization;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Load;
using Socks5UdpRelay.Client;

namespace Socks5UdpRelay.Benchmarks.Alloc;

/// <summary>
/// <c>client-alloc</c>: bytes the client library allocates per round trip, over UDP and over TCP.
/// Our server runs as a child (its allocations are not ours to count), the echo target allocates
/// nothing, and this process does nothing but <c>SendAsync</c>/<c>ReceiveAsync</c> on one
/// association, so <see cref="GC.GetTotalAllocatedBytes(bool)"/> around a fixed number of round
/// trips is the library's share. A Release build: a Debug build's async state machines are classes,
/// allocated per call. Bounded by count and time.
/// </summary>
internal static class ClientAllocCommand
{
    public const string Usage = """
        client-alloc [--transport udp,tcp] [--datagrams N] [--size B]
                                       bytes the client library allocates per round trip (default both transports, 100000 round trips, 64 B)
        """;

    public static int Run(Args args)
    {
        string[] transports = args.Strings("transport", ["udp", "tcp"]);
        int roundTrips = Math.Clamp(args.Int("datagrams", 100_000), 1_000, 10_000_000);
        int size = Math.Clamp(args.Int("size", 64), 1, 65_000);
        args.RejectUnknown();
        if (transports.Any(t => t is not ("udp" or "tcp")))
        {
            throw new UsageException("--transport: udp, tcp or udp,tcp");
        }

        using var server = ServerLauncher.StartOurs(cpu: null, []);
        using var echo = new EchoServer();
        bool allZero = true;
        foreach (string transport in transports)
        {
            var (bytes, done, elapsed) = MeasureAsync(server, echo, transport == "tcp" ? Socks5UdpTransport.Tcp : Socks5UdpTransport.Udp, roundTrips, size)
                .GetAwaiter().GetResult();
            double perRoundTrip = bytes / (double)done;
            allZero &= perRoundTrip < 1;
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{{\"kind\":\"client-alloc\",\"transport\":\"{0}\",\"round_trips\":{1},\"size\":{2},\"seconds\":{3:F2},\"allocated_bytes\":{4},\"bytes_per_round_trip\":{5:F3}}}",
                transport, done, size, elapsed.TotalSeconds, bytes, perRoundTrip));
        }

        return allZero ? 0 : 1;
    }

    private static async Task<(long Bytes, long Done, TimeSpan Elapsed)> MeasureAsync(StartedServer server, EchoServer echo, Socks5UdpTransport transport, int roundTrips, int size)
    {
        var options = new Socks5ProxyOptions { Host = server.EndPoint.Address.ToString(), Port = server.EndPoint.Port };
        await using var association = await Socks5UdpAssociation.OpenAsync(options, transport);
        var payload = new byte[size];
        var buffer = new byte[65_535];
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        await RoundTripsAsync(association, echo, payload, buffer, 20_000, limit.Token); // warm-up: JIT tiers, pools
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        long done = await RoundTripsAsync(association, echo, payload, buffer, roundTrips, limit.Token);
        var elapsed = watch.Elapsed;
        long after = GC.GetTotalAllocatedBytes(precise: true);
        return (after - before, done, elapsed);
    }

    private static async Task<long> RoundTripsAsync(Socks5UdpAssociation association, EchoServer echo, byte[] payload, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        for (int i = 0; i < count; i++)
        {
            await association.SendAsync(echo.EndPoint, payload, cancellationToken);
            await association.ReceiveAsync(buffer, cancellationToken);
        }

        return count;
    }
}
