using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Cli.Tests.Trace;

/// <summary>
/// <c>s5nc trace</c> across real routers (<see cref="TraceTopologyFixture"/>): from the client
/// namespace through the proxy it must list router1, router2 and the target, exactly the hops
/// Debian's traceroute, unmodified, lists when run on the proxy's host. Both outputs go to the
/// test output. Needs root; skips otherwise, and fails instead under <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c>.
/// </summary>
public sealed partial class TraceNamespaceTests(TraceTopologyFixture fixture, ITestOutputHelper output) : IClassFixture<TraceTopologyFixture>
{
    [RootFact]
    public Task IPv4_PortPerProbe_SameHopsAsTraceroute() => SameHopsAsTracerouteAsync(v6: false, closedPort: false);

    [RootFact]
    public Task IPv4_OneClosedPort_SameHopsAsTracerouteUdpToThatPort() => SameHopsAsTracerouteAsync(v6: false, closedPort: true);

    [RootFact]
    public Task IPv6_PortPerProbe_SameHopsAsTraceroute() => SameHopsAsTracerouteAsync(v6: true, closedPort: false);

    [RootFact]
    public Task IPv6_OneClosedPort_SameHopsAsTracerouteUdpToThatPort() => SameHopsAsTracerouteAsync(v6: true, closedPort: true);

    [RootFact]
    public async Task Json_OneObjectPerHop_ReportersKindsAndRoundTrips()
    {
        var topology = fixture.Topology;

        var (exit, text) = await fixture.TraceAsync("--proxy", fixture.Proxy(v6: false), topology.Target.V4.ToString(), "--json", "-w", "2");
        output.WriteLine(text);

        Assert.True(exit == 0, text);
        var hops = text.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([1, 2, 3], hops.Select(h => h.GetProperty("ttl").GetInt32()));
        Assert.Equal([topology.Router1.V4.ToString(), topology.Router2.V4.ToString(), topology.Target.V4.ToString()], hops.Select(h => h.GetProperty("from").GetString()));
        Assert.Equal(["ttl-exceeded", "ttl-exceeded", "port-unreachable"], hops.Select(h => h.GetProperty("kind").GetString()));
        Assert.All(hops, h => Assert.Equal(["ttl", "from", "rtt_ms", "kind"], h.EnumerateObject().Select(p => p.Name)));
        Assert.All(hops, h => Assert.Equal(3, h.GetProperty("rtt_ms").EnumerateArray().Count(r => r.ValueKind == JsonValueKind.Number && r.GetDouble() > 0)));
    }

    [RootFact]
    public async Task EveryHopsNotice_CarriesTheTtlItArrivedWith_FromTheReportersDistance()
    {
        // Every host here starts at 64 and each router on the way back takes one: router1's errors
        // arrive at the relay with 64, router2's with 63, the target's with 62.
        var topology = fixture.Topology;
        foreach (bool v6 in new[] { false, true })
        {
            var target = v6 ? topology.Target.V6 : topology.Target.V4;
            var (exit, text) = await fixture.TraceAsync("--proxy", fixture.Proxy(v6), target.ToString(), "-v", "-w", "2");
            output.WriteLine(text);
            Assert.True(exit == 0, text);

            var expected = new Dictionary<string, int>
            {
                [(v6 ? topology.Router1.V6 : topology.Router1.V4).ToString()] = 64,
                [(v6 ? topology.Router2.V6 : topology.Router2.V4).ToString()] = 63,
                [target.ToString()] = 62,
            };
            var notices = NoticeRegex().Matches(text).Select(m => (From: m.Groups["from"].Value, Rttl: int.Parse(m.Groups["rttl"].Value, CultureInfo.InvariantCulture))).ToList();
            Assert.Equal(9, notices.Count);
            Assert.All(notices, n => Assert.Equal(expected[n.From], n.Rttl));
            Assert.Equal(expected.Keys.Order(), notices.Select(n => n.From).Distinct().Order());
        }
    }

    [RootFact]
    public async Task RoutersReject_EndsTheTraceThereWithTraceroutesFlag_ExitOne()
    {
        // Router2 forwards nothing to this port: what reaches it with TTL left gets admin-prohibited.
        const int Port = 41299;
        var topology = fixture.Topology;
        string rule = $"FORWARD -p udp --dport {Port} -j REJECT --reject-with icmp-admin-prohibited";
        topology.AddRule(topology.Router2Namespace, $"iptables -A {rule}");
        try
        {
            string target = topology.Target.V4.ToString();
            string traceroute = fixture.Traceroute("-n", "-w", "2", "-U", "-p", $"{Port}", target);
            var (exit, trace) = await fixture.TraceAsync("--proxy", fixture.Proxy(v6: false), target, "-w", "2", "--port", $"{Port}");
            output.WriteLine($"{traceroute}\n{trace}");

            Assert.True(exit == 1, trace);
            string router2 = topology.Router2.V4.ToString();
            var expected = new List<(int, string?)> { (1, topology.Router1.V4.ToString()), (2, router2), (3, router2) };
            Assert.Equal(expected, TracerouteHops.Parse(traceroute));
            Assert.Equal(expected, TracerouteHops.Parse(trace));
            Assert.Matches($@"(?m)^ 3  {Regex.Escape(router2)}  [0-9.]+ ms !X  [0-9.]+ ms !X  [0-9.]+ ms !X$", trace);
            Assert.Matches($@"(?m)^ 3  {Regex.Escape(router2)}  [0-9.]+ ms !X  [0-9.]+ ms !X  [0-9.]+ ms !X\s*$", traceroute);
            Assert.Contains($"s5nc: {target} not reached: admin-prohibited from {router2} at hop 3 (9 probes, ", trace, StringComparison.Ordinal);
        }
        finally
        {
            topology.AddRule(topology.Router2Namespace, $"iptables -D {rule}");
        }
    }

    private async Task SameHopsAsTracerouteAsync(bool v6, bool closedPort)
    {
        var topology = fixture.Topology;
        string target = (v6 ? topology.Target.V6 : topology.Target.V4).ToString();
        string[] portArgs = closedPort ? ["--port", $"{TraceTopologyFixture.ClosedPort}"] : [];
        string[] tracerouteArgs = [v6 ? "-6" : "-4", "-n", "-w", "2", .. closedPort ? new[] { "-U", "-p", $"{TraceTopologyFixture.ClosedPort}" } : [], target];

        string traceroute = fixture.Traceroute(tracerouteArgs);
        var (exit, trace) = await fixture.TraceAsync(["--proxy", fixture.Proxy(v6), target, "-w", "2", .. portArgs]);
        output.WriteLine($"$ traceroute {string.Join(' ', tracerouteArgs)}    (in the relay namespace)\n{traceroute}");
        output.WriteLine($"$ s5nc trace --proxy {fixture.Proxy(v6)} {target} -w 2 {string.Join(' ', portArgs)}    (in the client namespace; exit {exit})\n{trace}");

        Assert.True(exit == 0, trace);
        string[] path = [.. new[] { topology.Router1, topology.Router2, topology.Target }.Select(a => (v6 ? a.V6 : a.V4).ToString())];
        var expected = path.Select((address, i) => (i + 1, (string?)address)).ToList();
        Assert.Equal(expected, TracerouteHops.Parse(traceroute));
        Assert.Equal(expected, TracerouteHops.Parse(trace));
        // All three probes of each hop answered, by the one reporter, as traceroute's were.
        Assert.Equal(3, HopLineRegex().Matches(trace).Count);
    }

    [GeneratedRegex(@"notice: UDP-ERROR [^\n]*from=(?<from>[0-9a-f.:]+) rttl=(?<rttl>[0-9]+)")]
    private static partial Regex NoticeRegex();

    // " 2  10.201.3.2  0.123 ms  0.101 ms  0.098 ms": one reporter, three round trips, no star.
    [GeneratedRegex(@"(?m)^ [1-3]  [0-9a-f.:]+  [0-9]+\.[0-9]{3} ms  [0-9]+\.[0-9]{3} ms  [0-9]+\.[0-9]{3} ms$")]
    private static partial Regex HopLineRegex();
}
