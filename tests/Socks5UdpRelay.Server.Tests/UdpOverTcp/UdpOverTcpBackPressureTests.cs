using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// A client that stops reading (README, "UDP over TCP", Back-pressure): what waits for it is
/// bounded (256 KiB besides the kernel's send buffer), the rest is dropped and counted as
/// <c>buffer-full</c>, and the server, a process of its own here so its memory can be read,
/// neither grows with the flood nor stops serving others.
/// </summary>
public sealed partial class UdpOverTcpBackPressureTests(ITestOutputHelper output)
{
    private const int FloodDatagrams = 100_000;
    private const int DatagramSize = 1400;

    [Fact]
    public async Task ClientThatNeverReads_FloodOfReplies_DroppedAsBufferFull_MemoryBounded_OthersServed()
    {
        await using var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0", "--Metrics:Enabled=true", "--Metrics:Listen=127.0.0.1:0"]);
        var metrics = IPEndPoint.Parse(MetricsRegex().Match(await server.WaitForLineAsync(l => l.Contains("Metrics on", StringComparison.Ordinal))).Groups[1].Value);
        using var target = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        target.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var stuck = await RawUdpOverTcp.OpenAsync(server.EndPoint, receiveBuffer: 4096); // and it reads nothing until the flood is over

        // One datagram out tells the target where the relay sends from; the flood goes back there.
        await stuck.SendAsync(HevFrame.Datagram((IPEndPoint)target.LocalEndPoint!, "hello"u8));
        byte[] buffer = new byte[2048];
        var first = await target.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), TestTimeout.Token);
        long rssBefore = VmRssKiB(server.Pid);

        byte[] payload = new byte[DatagramSize];
        for (int i = 0; i < FloodDatagrams; i++)
        {
            target.SendTo(payload, first.RemoteEndPoint);
        }

        var (delivered, bufferFull) = await SteadyAsync(metrics);
        long rssAfter = VmRssKiB(server.Pid);
        long inKernels = ServerSendQueue(server.EndPoint, (IPEndPoint)stuck.Socket.LocalEndPoint!) + stuck.Socket.Available;
        output.WriteLine($"flood of {FloodDatagrams} x {DatagramSize} B: {delivered} written for the client, {bufferFull} dropped (buffer-full); VmRSS {rssBefore} KiB -> {rssAfter} KiB");
        Assert.True(bufferFull > 0, "nothing was dropped for a client that never reads");
        long relayed = delivered + bufferFull;
        Assert.True(relayed >= 10_000, $"the relay took only {relayed} datagrams of the flood: too few to show a bound");
        Assert.True(rssAfter - rssBefore < 12 * 1024, $"VmRSS grew by {(rssAfter - rssBefore) / 1024} MiB while {relayed * DatagramSize / (1024 * 1024)} MiB went through");

        // Another client is served while this one is still stuck.
        await using (var other = await RawUdpOverTcp.OpenAsync(server.EndPoint))
        {
            await other.SendAsync(HevFrame.Datagram(echo.EndPoint, "served"u8));
            Assert.Equal("served"u8.ToArray(), (await other.ReadDatagramAsync()).Data);
        }

        // What waited for the stuck client is whole frames, and besides what the two kernels held,
        // no more than the README's 256 KiB; once it reads again, its association works. A window of a few KiB would drain at one
        // delayed ACK per segment: the client opens it first, as any client that reads again would.
        stuck.Socket.ReceiveBufferSize = 1 << 20;
        int waiting = 0;
        bool markerSent = false;
        while (true)
        {
            var frame = await stuck.ReadDatagramAsync();
            if (frame.Data.AsSpan().SequenceEqual("marker"u8))
            {
                break;
            }

            Assert.Equal(DatagramSize, frame.Data.Length);
            waiting++;
            if (waiting == 100 && !markerSent)
            {
                await stuck.SendAsync(HevFrame.Datagram(echo.EndPoint, "marker"u8));
                markerSent = true;
            }
        }

        long waited = waiting * (DatagramSize + 10L);
        output.WriteLine($"{waiting} frames ({waited / 1024} KiB) were waiting for the stuck client, {inKernels / 1024} KiB of them in the kernels");
        Assert.True(markerSent);
        Assert.True(waited - inKernels <= 256 * 1024, $"{(waited - inKernels) / 1024} KiB waited in the server, besides {inKernels / 1024} KiB in the kernels");
    }

    /// <summary>
    /// The server's unsent and unacknowledged bytes on its connection to <paramref name="client"/>
    /// (tx_queue of /proc/net/tcp): the part of what waits that the kernel holds, not the server.
    /// </summary>
    private static long ServerSendQueue(IPEndPoint server, IPEndPoint client)
    {
        static string Hex(IPEndPoint e) => $"{BitConverter.ToUInt32(e.Address.GetAddressBytes()):X8}:{e.Port:X4}";
        string[] fields = File.ReadLines("/proc/net/tcp")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(f => f[1] == Hex(server) && f[2] == Hex(client));
        return long.Parse(fields[4].Split(':')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    private static long VmRssKiB(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>Scrapes until two scrapes 100 ms apart agree: the relay has dealt with the whole flood.</summary>
    private static async Task<(long Delivered, long BufferFull)> SteadyAsync(IPEndPoint metrics)
    {
        var deadline = DateTime.UtcNow + TestTimeout.Default;
        (long, long) previous = (-1, -1);
        while (true)
        {
            string text = await RawHttp.GetAsync(metrics, "/metrics");
            var current = (Series(text, "socks5udprelay_datagrams_total{direction=\"destination-to-client\"}"), Series(text, "socks5udprelay_datagrams_dropped_total{reason=\"buffer-full\"}"));
            if (current == previous)
            {
                return current;
            }

            Assert.True(DateTime.UtcNow < deadline, "the relay's counters never settled");
            previous = current;
            await Task.Delay(100);
        }
    }

    private static long Series(string metrics, string series)
    {
        string line = metrics.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return long.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"Metrics on http://([0-9.:]+)/metrics")]
    private static partial Regex MetricsRegex();
}
