using System.Diagnostics;
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
public sealed class SlowDestinationTests(ITestOutputHelper output) : MeasuredTest
{
    /// <summary>About 235 datagrams/s of 64 bytes (106 bytes on the wire): the flood is 8 times that.</summary>
    private const string LinkRate = "200kbit";

    private const int FloodPerSecond = 2000;

    private const int Pairs = 15;

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
        async Task<string> Metrics()
        {
            using var tcp = topology.CreateSocket(topology.RelayNamespace, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            return await RawHttp.GetAsync(tcp, metrics, "/metrics");
        }


        using var stop = new CancellationTokenSource();
        var flood = new PacedFlood(FloodPerSecond, token => flooder.SendAsync(slow, Payload, token));
        var echoes = new EchoRoundTrips(measured, echoAt);
        var flooding = Task.Run(() => flood.RunAsync(stop.Token));
        var roundTrips = Task.Run(() => echoes.RunAsync(stop.Token));
        try
        {
            // The flood first, until the relay drops it as buffer-full: from then on the buffer is full and stays so while it runs.
            flood.On = true;
            long bufferFull = 0;
            for (var deadline = Stopwatch.StartNew(); bufferFull == 0; await Task.Delay(100))
            {
                Assert.True(deadline.Elapsed < TestTimeout.Default, $"no buffer-full drop after {deadline.Elapsed.TotalSeconds:F0} s of flood; the link:\n{topology.QdiscStatistics()}");
                bufferFull = PrometheusText.Value(await Metrics(), PrometheusText.Dropped("buffer-full"));
            }

            var figures = await QuietVersusFlooded.MeasureAsync(echoes, flood, Pairs);
            long bufferFullAfter = PrometheusText.Value(await Metrics(), PrometheusText.Dropped("buffer-full"));
            output.WriteLine(figures.Report);
            output.WriteLine($"median {figures.Median:P1}; {echoes.Completed} round trips, {echoes.Lost} lost; flood: {flood.Sent} sent, "
                + $"{flooder.DroppedDatagrams} dropped by the client, server buffer-full {bufferFullAfter}");
            output.WriteLine(topology.QdiscStatistics());
            Assert.True(bufferFullAfter > bufferFull, "the flood slices were not dropped as buffer-full: the relay's send buffer was not full");
            Assert.True(figures.Median >= 0.9, $"the other association kept {figures.Median:P1} of its round trips/s under the flood (median of {Pairs} pairs):\n{figures.Report}");
            Assert.True(echoes.Lost * 100 <= echoes.Completed, $"{echoes.Lost} of {echoes.Completed + echoes.Lost} round trips lost");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(flooding, roundTrips).Within();
        }
    }

    private static Task<Socks5UdpAssociation> OpenAsync(SlowLinkTopology topology, IPEndPoint socks)
        => Socks5UdpAssociation.OpenAsync(new Socks5ProxyOptions
        {
            Host = socks.Address.ToString(),
            Port = socks.Port,
            SocketFactory = (family, type, protocol) => topology.CreateSocket(topology.RelayNamespace, family, type, protocol),
        }, TestTimeout.Token);
}
