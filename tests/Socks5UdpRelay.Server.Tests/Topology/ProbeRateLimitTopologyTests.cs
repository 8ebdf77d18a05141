using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// `s5nc probe` against a real remote host whose kernel keeps its DEFAULT ICMP rate limits
/// (about 6 errors in a burst, then 1/s): a probe that did not pace itself and retry would call
/// most closed ports open|filtered. The CLI runs in the client namespace, the server in the
/// relay namespace, the closed ports are on the target beyond two routers.
/// </summary>
public sealed partial class ProbeRateLimitTopologyTests(ITestOutputHelper output)
{
    private const int FirstPort = 41_100;
    private const int Ports = 20;

    [RootFact]
    public async Task ProbeOf20ClosedPorts_WithDefaultIcmpRateLimits_CallsEveryOneClosed()
    {
        using var topology = NetnsTopology.Create(new NetnsTopologyOptions { KeepDefaultIcmpRateLimits = true });
        string server = Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll");
        using var relay = topology.StartDotNet(topology.RelayNamespace, server,
        [
            $"--Relay:Listen:0={topology.Relay.V4}:0",
            $"--Policy:AllowClients:0={topology.Client.V4}/32",
        ]);
        await relay.WaitForOutputAsync($"Listening for SOCKS5 on {topology.Relay.V4}:");
        int port = int.Parse(ListeningRegex().Match(relay.Output).Groups[1].Value, CultureInfo.InvariantCulture);

        var started = System.Diagnostics.Stopwatch.StartNew();
        using var probe = topology.StartDotNet(topology.ClientNamespace, BuiltPrograms.CliDll,
        [
            "probe", "--proxy", $"{topology.Relay.V4}:{port}", topology.Target.V4.ToString(), $"{FirstPort}-{FirstPort + Ports - 1}", "--json",
        ]);
        int exit = await probe.WaitForExitAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"probe took {started.Elapsed.TotalSeconds:F1} s, exit {exit}\n{probe.Output}");

        Assert.Equal(0, exit);
        var verdicts = probe.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Ports, verdicts.Count);
        foreach (var verdict in verdicts)
        {
            Assert.Equal("closed", verdict.GetProperty("state").GetString());
            Assert.Equal("port-unreachable", verdict.GetProperty("reason").GetString());
            Assert.Equal(topology.Target.V4.ToString(), verdict.GetProperty("from").GetString());
        }
    }

    [GeneratedRegex(@"Listening for SOCKS5 on [0-9.]+:([0-9]+)")]
    private static partial Regex ListeningRegex();
}
