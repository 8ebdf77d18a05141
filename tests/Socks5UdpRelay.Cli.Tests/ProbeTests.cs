using System.Net;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary><c>s5nc probe</c> end to end through the project's server on loopback.</summary>
public sealed class ProbeTests : IAsyncLifetime
{
    // Short waits keep silent ports cheap: loopback answers in well under a millisecond.
    private static readonly string[] Quick = ["--timeout", "0.3", "--retries", "1"];

    private RelayServer _server = null!;

    public async Task InitializeAsync() => _server = await RelayServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Probe_OpenClosedAndSilentPorts_GiveExactlyTheRightVerdicts()
    {
        await using var echo1 = UdpResponder.Echo();
        await using var echo2 = UdpResponder.Echo();
        await using var silent = UdpResponder.Silent();
        int closed1 = FreePorts.ClosedUdp();
        int closed2 = FreePorts.ClosedUdp();

        var result = await CliRun.InProcessAsync(string.Empty, [
            "probe", "-x", _server.Proxy, "127.0.0.1", $"{echo1.Port},{closed1}", $"{echo2.Port}", $"{closed2},{silent.Port}", "--json", .. Quick]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = ProbeLine.ParseAll(result.Stdout).ToDictionary(l => l.Port);
        Assert.Equal(5, lines.Count);
        Assert.All(lines.Values, l => Assert.Equal("127.0.0.1", l.Host));
        Assert.Equal(("open", "reply", (string?)null), (lines[echo1.Port].State, lines[echo1.Port].Reason, lines[echo1.Port].From));
        Assert.Equal(("open", "reply"), (lines[echo2.Port].State, lines[echo2.Port].Reason));
        Assert.Equal(("closed", "port-unreachable", "127.0.0.1"), (lines[closed1].State, lines[closed1].Reason, lines[closed1].From));
        Assert.Equal(("closed", "port-unreachable"), (lines[closed2].State, lines[closed2].Reason));
        Assert.Equal(("open|filtered", "silence", (double?)null), (lines[silent.Port].State, lines[silent.Port].Reason, lines[silent.Port].RttMs));
        Assert.NotNull(lines[echo1.Port].RttMs);
        // The silent port was asked once and retried once.
        Assert.Equal(2, silent.Received);
        Assert.Contains("5 ports on 127.0.0.1", result.Stderr);
        Assert.Contains("2 open, 2 closed, 0 filtered, 1 open|filtered", result.Stderr);
        Assert.Equal([.. lines.Keys.Order()], ProbeLine.ParseAll(result.Stdout).Select(l => l.Port));
    }

    [Fact]
    public async Task Probe_Table_ShowsOnlyNonClosedPortsUnlessAll()
    {
        await using var echo = UdpResponder.Echo();
        int closed = FreePorts.ClosedUdp();

        var plain = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", $"{closed}", .. Quick]);
        var all = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", $"{closed}", "--all", .. Quick]);

        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Matches($@"^HOST +PORT +STATE +REASON +RTT\n127\.0\.0\.1 +{echo.Port} +open +reply +[0-9.]+ ms\n2 ports on 127\.0\.0\.1 in ", plain.Stdout);
        Assert.DoesNotContain($" {closed} ", plain.Stdout);
        Assert.Matches($@"127\.0\.0\.1 +{closed} +closed +port-unreachable +[0-9.]+ ms\n", all.Stdout);
    }

    [Theory]
    [InlineData(53, "dns")]
    [InlineData(123, "ntp")]
    [InlineData(161, "snmp")]
    public async Task Probe_BuiltinRequest_FindsAServiceThatIgnoresEmptyDatagrams(int port, string protocol)
    {
        Func<byte[], byte[]?> answer = protocol switch
        {
            "dns" => ProtocolResponders.Dns,
            "ntp" => ProtocolResponders.Ntp,
            _ => ProtocolResponders.Snmp,
        };
        var address = FreePorts.UniqueLoopbackAddress();
        await using var service = new UdpResponder(answer, address, port);

        var builtin = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", _server.Proxy, address.ToString(), $"{port}", "--json", .. Quick]);
        var empty = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", _server.Proxy, address.ToString(), $"{port}", "--json", "--no-builtin", .. Quick]);

        Assert.True(builtin.ExitCode == 0, builtin.ToString());
        Assert.Equal(("open", "reply"), (ProbeLine.Parse(builtin.Stdout).State, ProbeLine.Parse(builtin.Stdout).Reason));
        // The responder is strict: the same port with an empty datagram stays silent.
        Assert.Equal("open|filtered", ProbeLine.Parse(empty.Stdout).State);
    }

    [Theory]
    [InlineData("--payload", "hi", "open")]
    [InlineData("--payload-hex", "6869", "open")]
    [InlineData("--payload-hex", "0x68:69", "open")]
    [InlineData("--payload", "ho", "open|filtered")]
    public async Task Probe_Payload_IsWhatEveryPortGets(string option, string value, string state)
    {
        await using var picky = new UdpResponder(d => d.AsSpan().SequenceEqual("hi"u8) ? d : null);

        var result = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", _server.Proxy, "127.0.0.1", $"{picky.Port}", option, value, "--json", .. Quick]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(state, ProbeLine.Parse(result.Stdout).State);
    }

    [Fact]
    public async Task Probe_NameTheProxyCannotResolve_IsAnErrorForThatHost()
    {
        var result = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", _server.Proxy, "nosuch.test", "53", "7000-7002", "--json", .. Quick]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Contains("s5nc: nosuch.test: the proxy could not resolve the name (no-such-name); no verdicts for this host.\n", result.Stderr);
        Assert.Single(result.Stderr.Split('\n'), l => l.Contains("could not resolve", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Probe_NameResolvedByTheProxy_MatchesRepliesAndNotices()
    {
        await using var echo = UdpResponder.Echo();
        int closed = FreePorts.ClosedUdp();

        var result = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", _server.Proxy, "localhost", $"{echo.Port},{closed}", "--json", .. Quick]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = ProbeLine.ParseAll(result.Stdout).ToDictionary(l => l.Port);
        Assert.Equal(("localhost", "open"), (lines[echo.Port].Host, lines[echo.Port].State));
        Assert.Equal(("localhost", "closed"), (lines[closed].Host, lines[closed].State));
    }

    [Fact]
    public async Task Probe_LoopbackCidr_ExpandsAndProbesEveryAddress()
    {
        // 127.0.0.4/30 is 127.0.0.4 to .7, all loopback: one echo on .5, the others closed.
        await using var echo = UdpResponder.Echo(IPAddress.Parse("127.0.0.5"));

        var result = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", _server.Proxy, "127.0.0.4/30", $"{echo.Port}", "--json", .. Quick]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = ProbeLine.ParseAll(result.Stdout);
        Assert.Equal(["127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"], lines.Select(l => l.Host));
        Assert.Equal(["closed", "open", "closed", "closed"], lines.Select(l => l.State));
    }

    [Theory]
    [InlineData("0", "PORTS: '0' is not a UDP port (1 to 65535).")]
    [InlineData("70000", "PORTS: '70000' is not a UDP port (1 to 65535).")]
    [InlineData("600-500", "PORTS: '600-500' is a reversed range: write 500-600.")]
    [InlineData("53,x", "PORTS: 'x' is not a UDP port (1 to 65535).")]
    [InlineData("53 --frob", "Unrecognized option '--frob'.")]
    [InlineData("53 --timeout -1", "--timeout: '-1' is not a number of seconds")]
    [InlineData("53 --retries 99", "--retries: '99' is not a number from 0 to 20.")]
    public async Task Probe_BadArguments_ClearErrorAndExitTwo(string ports, string message)
    {
        var result = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", _server.Proxy, "127.0.0.1", .. ports.Split(' ')]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"s5nc: error: {message}", result.Stderr);
        Assert.Contains("Try 's5nc probe --help'.", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task Probe_CidrOverMaxHosts_IsAUsageError()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "probe", "-x", _server.Proxy, "127.0.0.0/16", "53");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("s5nc: error: HOST: '127.0.0.0/16' holds 65536 addresses, more than --max-hosts 256.", result.Stderr);
    }

    [Fact]
    public async Task Process_BadArguments_ExitTwoWithoutStackTrace()
    {
        var result = await CliRun.ProcessAsync([], null, "probe", "127.0.0.1", "600-500", "--no-such-option");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("s5nc: error: PORTS: '600-500' is a reversed range: write 500-600.", result.Stderr);
        Assert.Contains("s5nc: error: Unrecognized option '--no-such-option'.", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [RequiresDanteFact]
    public async Task Probe_ThroughDante_OpenAndOpenFilteredWithOneWarning()
    {
        await using var dante = await DanteProcess.StartAsync();
        await using var echo = UdpResponder.Echo();
        int closed = FreePorts.ClosedUdp();

        var result = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", dante.EndPoint.ToString(), "127.0.0.1", $"{echo.Port},{closed}", "--json", .. Quick]);

        Assert.True(result.ExitCode == 0, $"{result}\n--- dante\n{dante.Log}");
        var lines = ProbeLine.ParseAll(result.Stdout).ToDictionary(l => l.Port);
        Assert.Equal("open", lines[echo.Port].State);
        Assert.Equal(("open|filtered", "silence"), (lines[closed].State, lines[closed].Reason));
        string warning = "s5nc: warning: the proxy sent no NOTICES line, so it does not report ICMP errors: "
            + "closed ports cannot be told apart from open|filtered through it.";
        Assert.Single(result.Stderr.Split('\n'), l => l == warning);
    }
}
