using System.Globalization;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Cli.Tests.Trace;

/// <summary>
/// <c>s5nc trace</c> where the routers and the target keep the kernel's own ICMP rate limits
/// (IPv4: a burst of 6 errors to one source, then 1 a second): a trace that sent probes past the
/// destination would spend its budget on them, and a trace right after would find the
/// destination mute and put it a hop too far. Hop by hop, the destination gets the probes of its
/// own TTL only, and two traces back to back both find every hop.
/// </summary>
public sealed partial class TraceDefaultLimitsTests(TraceDefaultLimitsFixture fixture, ITestOutputHelper output) : IClassFixture<TraceDefaultLimitsFixture>
{
    [RootFact]
    public async Task TwoTracesBackToBack_BothListEveryHop_AndTheTargetGetsOnlyItsOwnTtlsProbes()
    {
        var topology = fixture.Topology;
        topology.Nft(topology.TargetNamespace, $$"""
            table inet probes {
              chain input {
                type filter hook input priority 0; policy accept;
                udp dport { 33434-33533, {{TraceTopologyFixture.ClosedPort}} } counter
              }
            }
            """);

        foreach (bool v6 in new[] { false, true })
        {
            string target = (v6 ? topology.Target.V6 : topology.Target.V4).ToString();
            var path = new[] { topology.Router1, topology.Router2, topology.Target }.Select((a, i) => (i + 1, (string?)(v6 ? a.V6 : a.V4).ToString())).ToList();
            long before = ProbesAtTarget();

            var (firstExit, first) = await fixture.TraceAsync("--proxy", fixture.Proxy(v6), target, "-w", "2");
            var (secondExit, second) = await fixture.TraceAsync("--proxy", fixture.Proxy(v6), target, "-w", "2", "--port", $"{TraceTopologyFixture.ClosedPort}");
            long reached = ProbesAtTarget() - before;
            output.WriteLine($"{first}\n{second}\nprobes that reached the target: {reached}\n");

            Assert.True(firstExit == 0, first);
            Assert.True(secondExit == 0, second);
            Assert.Equal(path, TracerouteHops.Parse(first));
            Assert.Equal(path, TracerouteHops.Parse(second));
            Assert.Equal(6, reached);
        }
    }

    private long ProbesAtTarget()
    {
        var listing = fixture.Topology.Exec(fixture.Topology.TargetNamespace, "nft", "list", "table", "inet", "probes");
        var match = CounterRegex().Match(listing);
        Assert.True(match.Success, listing);
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("counter packets ([0-9]+)")]
    private static partial Regex CounterRegex();
}
