using System.Net;
using System.Text.Json;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests.Trace;

/// <summary>
/// <c>s5nc trace</c> end to end through the project's server on loopback, where every destination
/// is one hop away (TTL is not decremented on the way to the host's own address): the destination's
/// answers, silence, names, and every way the proxy can refuse. Paths of several routers are in
/// <see cref="TraceNamespaceTests"/>.
/// </summary>
public sealed class TraceTests : IAsyncLifetime
{
    private RelayServer _server = null!;

    public async Task InitializeAsync() => _server = await RelayServer.StartAsync(
        new FakeResolver().Map("localhost", IPAddress.Loopback).Map("trace.test", IPAddress.Loopback));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ClosedPorts_DestinationAtHopOne_TracerouteLayout_ExitZero()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", _server.Proxy, "127.0.0.1", "-w", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(
            $@"^trace to 127\.0\.0\.1 \(127\.0\.0\.1\), 30 hops max, 32 byte payloads, through proxy {_server.Proxy.Replace(".", @"\.")}\n"
            + @" 1  127\.0\.0\.1  [0-9]+\.[0-9]{3} ms  [0-9]+\.[0-9]{3} ms  [0-9]+\.[0-9]{3} ms\n$",
            result.Stdout);
        Assert.Equal(string.Empty, result.Stderr);
    }

    [Fact]
    public async Task Json_OneObjectPerHop_WithTheReadmesKeysInOrder()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", _server.Proxy, "127.0.0.1", "--json", "-q", "2", "-w", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        var hop = Assert.Single(result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement));
        Assert.Equal(["ttl", "from", "rtt_ms", "kind"], hop.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, hop.GetProperty("ttl").GetInt32());
        Assert.Equal("127.0.0.1", hop.GetProperty("from").GetString());
        Assert.Equal("port-unreachable", hop.GetProperty("kind").GetString());
        Assert.Equal(2, hop.GetProperty("rtt_ms").GetArrayLength());
        Assert.All(hop.GetProperty("rtt_ms").EnumerateArray(), rtt => Assert.InRange(rtt.GetDouble(), 0, 2000));
        Assert.Matches(@"^s5nc: 127\.0\.0\.1 reached at hop 1 \(2 probes, [0-9.]+ s\)\.\n$", result.Stderr);
    }

    [Fact]
    public async Task Port_ToAnEchoService_ReachedByReplies_OneProbeAtATime()
    {
        await using var echo = UdpResponder.Echo();

        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", _server.Proxy, "127.0.0.1", "--port", $"{echo.Port}", "--json", "-w", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        var hop = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(("reply", "127.0.0.1"), (hop.GetProperty("kind").GetString(), hop.GetProperty("from").GetString()));
        Assert.All(hop.GetProperty("rtt_ms").EnumerateArray(), rtt => Assert.Equal(JsonValueKind.Number, rtt.ValueKind));
        Assert.Equal(3, echo.Received);
    }

    [Fact]
    public async Task SilentDestination_StarsUpToMaxHops_ExitOne()
    {
        await using var silent = UdpResponder.Silent();

        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", _server.Proxy, "127.0.0.1", "--port", $"{silent.Port}", "-m", "2", "-q", "1", "-w", "0.2");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.EndsWith(" 1  *\n 2  *\n", result.Stdout);
        Assert.Matches(@"^s5nc: 127\.0\.0\.1 not reached in 2 hops \(2 probes, [0-9.]+ s\)\.\n$", result.Stderr);
        Assert.Equal(2, silent.Received);
    }

    [Fact]
    public async Task OnATerminal_ProgressOnStderr_ClearedBeforeEachHopLineAndTheSummary()
    {
        await using var silent = UdpResponder.Silent();
        var output = new StringWriter();
        var error = new StringWriter();
        var console = TerminalConsole.Create(output, error);

        int exit = await Cli.RunAsync(["trace", "-x", _server.Proxy, "127.0.0.1", "--port", $"{silent.Port}", "-m", "2", "-q", "1", "-w", "1.2"], console, TestTimeout.Token).Within();

        Assert.Equal(1, exit);
        string progress = error.ToString();
        Assert.Contains("\r\x1b[Ks5nc: hop 1/2, 1 probe sent, ", progress, StringComparison.Ordinal);
        Assert.Contains("\r\x1b[Ks5nc: hop 2/2, 2 probes sent, ", progress, StringComparison.Ordinal);
        Assert.Contains("\r\x1b[Ks5nc: 127.0.0.1 not reached in 2 hops (2 probes, ", progress, StringComparison.Ordinal);
        Assert.EndsWith(" 1  *\n 2  *\n", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("\x1b", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Name_ResolvedByTheProxyOnce_AndShownWithItsAddress()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", _server.Proxy, "trace.test", "-v", "-w", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("trace to trace.test (127.0.0.1), 30 hops max", result.Stdout);
        var answers = result.Stderr.Split('\n').Where(l => l.StartsWith("s5nc: answer: SET-OK", StringComparison.Ordinal)).ToList();
        // The first SET names the host and learns its address; the rest use the address.
        Assert.Equal(["s5nc: answer: SET-OK dst=trace.test:33434 addr=127.0.0.1:33434 ttl=1", "s5nc: answer: SET-OK dst=127.0.0.1:33435 ttl=1", "s5nc: answer: SET-OK dst=127.0.0.1:33436 ttl=1"], answers);
    }

    [Fact]
    public async Task UnresolvableName_ExitOneWithTheProxysAnswer()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", _server.Proxy, "nowhere.test");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("s5nc: nowhere.test: the proxy could not resolve the name (SET-FAILED dst=nowhere.test:33434 reason=unresolved).\n", result.Stderr);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task DestinationThePolicyRefuses_ExitThree()
    {
        // Link-local is refused by default: the SET is, and nothing is sent.
        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", _server.Proxy, "169.254.1.1");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal($"s5nc: proxy {_server.Proxy} refused to set the TTL towards 169.254.1.1 (policy): 'SET-FAILED dst=169.254.1.1:33434 reason=policy'.\n", result.Stderr);
    }

    [Fact]
    public async Task CommandsOff_ExitThree_OneLineNamingWhatIsMissing()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Commands"] = "off" });

        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", server.Proxy, "127.0.0.1");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal(
            $"s5nc: proxy {server.Proxy}: its greeting \"NOTICES version=1\" offers no commands: "
            + "s5nc trace needs a proxy that offers commands=set (Socks5UdpRelay with Relay:Commands=on).\n",
            result.Stderr);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task NoticesOff_NoGreeting_ExitThreeAfterTheConnectTimeout()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Notices"] = "off" });

        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", server.Proxy, "127.0.0.1", "--connect-timeout", "0.5");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal(
            $"s5nc: proxy {server.Proxy} sent no NOTICES greeting within 0.5 s, so it takes no commands: "
            + "s5nc trace needs a proxy that offers commands=set (Socks5UdpRelay with Relay:Commands=on).\n",
            result.Stderr);
    }

    [RequiresDanteFact]
    public async Task ThroughDante_ExitThree_NoGreeting()
    {
        await using var dante = await DanteProcess.StartAsync();

        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", dante.EndPoint.ToString(), "127.0.0.1", "--connect-timeout", "1");

        Assert.True(result.ExitCode == 3, $"{result}\n--- dante\n{dante.Log}");
        Assert.Equal(
            $"s5nc: proxy {dante.EndPoint} sent no NOTICES greeting within 1 s, so it takes no commands: "
            + "s5nc trace needs a proxy that offers commands=set (Socks5UdpRelay with Relay:Commands=on).\n",
            result.Stderr);
    }

    [Fact]
    public async Task ProxyUnreachable_ExitThree()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "trace", "-x", $"127.0.0.1:{FreePorts.Tcp()}", "127.0.0.1");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("Connection refused", result.Stderr);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("trace", "s5nc: error: Required argument 'HOST' missing for command: 'trace'.")]
    [InlineData("trace 127.0.0.1 -m 0", "s5nc: error: --max-hops: '0' is not a number from 1 to 255.")]
    [InlineData("trace 127.0.0.1 --max-hops 256", "s5nc: error: --max-hops: '256' is not a number from 1 to 255.")]
    [InlineData("trace 127.0.0.1 -q 0", "s5nc: error: --queries: '0' is not a number from 1 to 10.")]
    [InlineData("trace 127.0.0.1 -q 11", "s5nc: error: --queries: '11' is not a number from 1 to 10.")]
    [InlineData("trace 127.0.0.1 -w 0", "s5nc: error: --wait: '0' is not a number of seconds (more than 0 to 86400).")]
    [InlineData("trace 127.0.0.1 -w soon", "s5nc: error: --wait: 'soon' is not a number of seconds (more than 0 to 86400).")]
    [InlineData("trace 127.0.0.1 --port 0", "s5nc: error: --port: '0' is not a UDP port (1 to 65535).")]
    [InlineData("trace 127.0.0.1 --port 70000", "s5nc: error: --port: '70000' is not a UDP port (1 to 65535).")]
    [InlineData("trace 127.0.0.1 10.0.0.1", "s5nc: error: Unrecognized command or argument '10.0.0.1'.")]
    [InlineData("trace -4 ::1", "s5nc: error: -4: '::1' is an IPv6 address.")]
    [InlineData("trace -4 -6 127.0.0.1", "s5nc: error: -4 and -6 cannot be used together.")]
    [InlineData("trace bad/name", "s5nc: error: 'bad/name' is not a host name or an IP address (a name has 1 to 255 ASCII characters).")]
    public async Task UsageErrors_ExitTwoWithTheReason(string args, string message)
    {
        var result = await CliRun.InProcessAsync(string.Empty, [.. args.Split(' '), "-x", "127.0.0.1:1"]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr);
        Assert.Contains("Try 's5nc trace --help'.", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Help_OptionsExamplesAndExitCodes()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "trace", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (string text in new[] { "--port", "--max-hops", "--queries", "--wait", "--json", "--proxy", "Examples:", "s5nc trace 192.0.2.7 --port 53", "commands=set", "3 proxy unreachable" })
        {
            Assert.Contains(text, result.Stdout);
        }
    }
}
