using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Tests.Topology;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// One association floods a destination behind a slow link until the relay's send buffer to it is
/// full (issue #12 item 5: a blocking send there used to stall the event loop for every
/// association on it, 9 923 → 23 round trips/s). Both associations share the server's one event
/// loop (<c>Relay:EventLoops=1</c>); the other association's echo round trips keep at least 90 %
/// of their rate, and the flood is dropped and counted as <c>buffer-full</c>.
/// </summary>
[Collection(MeasuredCollection.Name)]
public sealed class SlowDestinationTests(ITestOutputHelper output)
{
    /// <summary>About 235 datagrams/s of 64 bytes (106 bytes on the wire): the flood is 8 times that.</summary>
    private const string LinkRate = "200kbit";

    private const int FloodPerSecond = 2000;

    /// <summary>Pairs of slices, one quiet and one flooded, in ABBA order so a drift in the machine's load hits both alike.</summary>
    private const int Pairs = 8;

    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(300);

    /// <summary>A round trip on this namespace's loopback takes well under a millisecond; one this late is lost.</summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(1);

    private static readonly byte[] Payload = new byte[64];

    [RootFact]
    public async Task OneAssociationFloodingASlowDestination_AnotherOnTheSameLoop_KeepsAtLeast90PercentOfItsRate()
    {
        using var topology = SlowLinkTopology.Create(LinkRate);
        using var sink = topology.CreateSocket(topology.SinkNamespace, AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sink.Bind(new IPEndPoint(SlowLinkTopology.Sink, 0)); // never read: a full buffer drops in silence, no ICMP comes back
        var slow = (IPEndPoint)sink.LocalEndPoint!;
        await using var echo = UdpResponder.EchoOn(topology.CreateSocket(topology.RelayNamespace, AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp), 0);
        var echoAt = new IPEndPoint(IPAddress.Loopback, echo.Port);
        var (_, socks, metrics) = await topology.StartServerAsync(["--Relay:EventLoops=1"]);
        await using var measured = await OpenAsync(topology, socks);
        await using var flooder = await OpenAsync(topology, socks);
        Task<string> Metrics() => RawHttp.GetAsync(metrics, "/metrics", () => topology.CreateSocket(topology.RelayNamespace, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));

        using var stop = new CancellationTokenSource();
        var flooding = new Switch();
        var echoes = new RoundTrips(measured, echoAt);
        var flood = Task.Run(() => FloodAsync(flooder, slow, flooding, stop.Token));
        var roundTrips = Task.Run(() => echoes.RunAsync(stop.Token));
        try
        {
            // The flood first, until the relay drops it as buffer-full: from then on the buffer is full and stays so while it runs.
            flooding.On = true;
            long bufferFull = 0;
            for (var deadline = Stopwatch.StartNew(); bufferFull == 0; await Task.Delay(100))
            {
                Assert.True(deadline.Elapsed < TestTimeout.Default, $"no buffer-full drop after {deadline.Elapsed.TotalSeconds:F0} s of flood; the link:\n{topology.QdiscStatistics()}");
                bufferFull = PrometheusText.Value(await Metrics(), PrometheusText.Dropped("buffer-full"));
            }

            var ratios = new List<double>();
            var lines = new List<string>();
            for (int pair = 0; pair < Pairs; pair++)
            {
                bool floodFirst = pair % 4 is 1 or 2; // quiet-flood, flood-quiet, flood-quiet, quiet-flood, ...
                double first = await MeasureAsync(echoes, flooding, floodFirst);
                double second = await MeasureAsync(echoes, flooding, !floodFirst);
                var (quiet, flooded) = floodFirst ? (second, first) : (first, second);
                ratios.Add(flooded / quiet);
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"pair {pair}: {quiet:F0} round trips/s quiet, {flooded:F0} flooded ({flooded / quiet:P0})"));
            }

            flooding.On = false;
            string after = await Metrics();
            long bufferFullAfter = PrometheusText.Value(after, PrometheusText.Dropped("buffer-full"));
            double median = ratios.Order().ElementAt(Pairs / 2);
            foreach (string line in lines)
            {
                output.WriteLine(line);
            }

            output.WriteLine($"median {median:P1}; {echoes.Completed} round trips, {echoes.Lost} lost; flood: {flooder.DroppedDatagrams} dropped by the client, server buffer-full {bufferFullAfter}");
            output.WriteLine(topology.QdiscStatistics());
            Assert.True(bufferFullAfter > bufferFull, "the flood slices were not dropped as buffer-full: the relay's send buffer was not full");
            Assert.True(median >= 0.9, $"the other association kept {median:P1} of its round trips/s under the flood (median of {Pairs} pairs):\n{string.Join('\n', lines)}");
            Assert.True(echoes.Lost * 100 <= echoes.Completed, $"{echoes.Lost} of {echoes.Completed + echoes.Lost} round trips lost");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(flood, roundTrips).Within();
        }
    }

    /// <summary>One slice: round trips per second, with the flood on or off throughout.</summary>
    private static async Task<double> MeasureAsync(RoundTrips echoes, Switch flooding, bool flood)
    {
        flooding.On = flood;
        await Task.Delay(50); // what the flood left queued on the client side is relayed (or not) before counting starts
        long before = echoes.Completed;
        var clock = Stopwatch.StartNew();
        await Task.Delay(Slice);
        return (echoes.Completed - before) / clock.Elapsed.TotalSeconds;
    }

    /// <summary><see cref="FloodPerSecond"/> datagrams per second to the slow destination while <paramref name="flooding"/> is on.</summary>
    private static async Task FloodAsync(Socks5UdpAssociation flooder, IPEndPoint slow, Switch flooding, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        double since = 0; // when the flood last came on: no catching up for the quiet time
        long sent = 0;
        try
        {
            while (!stop.IsCancellationRequested && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                double now = clock.Elapsed.TotalSeconds;
                if (!flooding.On)
                {
                    (since, sent) = (now, 0);
                }

                if (!flooding.On || sent >= (now - since) * FloodPerSecond)
                {
                    await Task.Delay(1, stop);
                    continue;
                }

                await flooder.SendAsync(slow, Payload, stop);
                sent++;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The test is over.
        }
    }

    private static Task<Socks5UdpAssociation> OpenAsync(SlowLinkTopology topology, IPEndPoint socks)
        => Socks5UdpAssociation.OpenAsync(new Socks5ProxyOptions
        {
            Host = socks.Address.ToString(),
            Port = socks.Port,
            SocketFactory = (family, type, protocol) => topology.CreateSocket(topology.RelayNamespace, family, type, protocol),
        }, TestTimeout.Token);

    private sealed class Switch
    {
        private volatile bool _on;

        public bool On
        {
            get => _on;
            set => _on = value;
        }
    }

    /// <summary>Echo round trips one at a time, each checked by its sequence number, counted as they complete.</summary>
    private sealed class RoundTrips(Socks5UdpAssociation association, IPEndPoint echo)
    {
        private long _completed;
        private long _lost;

        public long Completed => Interlocked.Read(ref _completed);

        public long Lost => Interlocked.Read(ref _lost);

        public async Task RunAsync(CancellationToken stop)
        {
            byte[] send = new byte[64];
            byte[] receive = new byte[256];
            var clock = Stopwatch.StartNew();
            try
            {
                await RunUntilAsync(clock, send, receive, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The test is over.
            }
        }

        private async Task RunUntilAsync(Stopwatch clock, byte[] send, byte[] receive, CancellationToken stop)
        {
            for (long sequence = 0; !stop.IsCancellationRequested && clock.Elapsed < TimeSpan.FromMinutes(2); sequence++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(send, sequence);
                await association.SendAsync(echo, send, stop);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(ReplyTimeout);
                try
                {
                    while (true)
                    {
                        var result = await association.ReceiveAsync(receive, timeout.Token);
                        if (result.Length == send.Length && BinaryPrimitives.ReadInt64LittleEndian(receive) == sequence)
                        {
                            Interlocked.Increment(ref _completed);
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _lost);
                }
            }
        }
    }
}
