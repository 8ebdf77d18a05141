using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;
using Xunit.Abstractions;
using static Socks5UdpRelay.Server.Tests.Topology.RelayNoticeProbe;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// <see cref="RelayTopologyFixture"/> with the metrics endpoint on inside the relay namespace, a
/// topology of its own: the path MTU its tests teach the relay must not leak into the frag-needed
/// tests, whose first datagram has to draw the ICMP error.
/// </summary>
public sealed class SegmentationTopologyFixture : RelayTopologyFixture
{
    public const int MetricsPort = 9180;

    public SegmentationTopologyFixture()
        : base(["--Metrics:Enabled=true", $"--Metrics:Listen=127.0.0.1:{MetricsPort}"], "kernel error queue (IP_RECVERR)")
    {
    }
}

/// <summary>
/// A segmented send over a path whose MTU is below the segment size (ARCHITECTURE.md, "Segmentation offload"; the README
/// "Performance"): segments leave without DF, so once the relay knows the path MTU the kernel
/// fails the whole GSO send with EMSGSIZE. The relay then sends the same datagrams one by one
/// (the kernel fragments them), never tells that EMSGSIZE as <c>fragmentation-needed</c>, and
/// remembers not to segment that size again on that socket.
/// </summary>
public sealed partial class SegmentationTopologyTests : IClassFixture<SegmentationTopologyFixture>
{
    private const int Size = 1400; // above router1's 1280-byte far link, below every 1500-byte link
    private const int Burst = 12;
    private readonly SegmentationTopologyFixture _fixture;
    private readonly ITestOutputHelper _output;

    public SegmentationTopologyTests(SegmentationTopologyFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        if (Requirements.NetworkNamespacesSkipReason is null)
        {
            fixture.ResetRules();
        }
    }

    public static TheoryData<AddressFamily> Families => new() { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 };

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task GsoBurstOverAPathMtuBelowTheSegmentSize_ArrivesWhole_WithoutAFragmentationNeededNotice(AddressFamily family)
    {
        var topology = _fixture.Topology;
        var row = $"GSO burst of {Burst} × {Size} bytes over the 1280-MTU link, {Name(family)}";
        var target = topology.Target.For(family);
        var echo = new IPEndPoint(target, RelayTopologyFixture.EchoPort);
        Socket? udp = null;
        await using var association = await _fixture.OpenAssociationAsync(s => udp = s.SocketType == SocketType.Dgram ? s : udp);

        // The first datagram of that size draws the router's frag-needed: a real ICMP error, told; the relay's kernel now knows the path MTU.
        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, echo, row, size: Size);
        Report(_output, row, elapsed, notice);
        Assert.Equal("fragmentation-needed", notice.Fields["error"]);

        // A QUIC-style burst: one GSO send from the client, read coalesced by the relay, whose segmented send the kernel now refuses.
        long refusedBefore = await RefusalsAsync(topology);
        int received = _fixture.Echo.Received;
        byte[] datagram = RawSocks.Datagram(echo, Payload(Size));
        byte[] burst = [.. Enumerable.Range(0, Burst).SelectMany(_ => datagram)];
        SegmentedUdp.Send(udp!, burst, datagram.Length, association.RelayEndPoint);

        await Eventually.TrueAsync(() => _fixture.Echo.Received >= received + Burst);
        Assert.Equal(received + Burst, _fixture.Echo.Received);
        Assert.True(await RefusalsAsync(topology) > refusedBefore, "the relay tried the burst segmented and the kernel refused it");

        // The echo of a small datagram on the same path shows the relay went on, and that no notice came for the refusal.
        await AssertEchoAsync(association, target, row, skipLargerThan: 1000);

        // Remembered: the next burst is not tried segmented at that size.
        long refusedAfter = await RefusalsAsync(topology);
        SegmentedUdp.Send(udp!, burst, datagram.Length, association.RelayEndPoint);
        await Eventually.TrueAsync(() => _fixture.Echo.Received >= received + (2 * Burst));
        await AssertEchoAsync(association, target, row, skipLargerThan: 1000);
        Assert.Equal(refusedAfter, await RefusalsAsync(topology));
    }

    /// <summary>Segmented sends the relay's loops saw refused, from its metrics endpoint inside the relay namespace.</summary>
    private static async Task<long> RefusalsAsync(NetnsTopology topology)
    {
        using var socket = topology.CreateSocket(topology.RelayNamespace, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        string text = await RawHttp.GetAsync(socket, new IPEndPoint(IPAddress.Loopback, SegmentationTopologyFixture.MetricsPort), "/metrics");
        var series = RefusedSeries().Matches(text);
        Assert.NotEmpty(series);
        return series.Sum(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [GeneratedRegex("""^socks5udprelay_loop_offload_total\{[^}]*op="gso-refused"[^}]*\} (\d+)""", RegexOptions.Multiline)]
    private static partial Regex RefusedSeries();
}
