using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary>
/// <c>--udp-over-tcp</c> on loopback through the project's server: forced on for every command
/// that relays, auto's fallback where datagrams to the relay are lost (a relay advertised at
/// 127.0.0.2, where nothing takes UDP), and auto staying with UDP where UDP works or where the
/// server sends no notices. The same through a firewall is <see cref="UdpOverTcpNamespaceTests"/>.
/// </summary>
public sealed class UdpOverTcpTests : IAsyncLifetime
{
    private const string FallbackText = "(UDP to it looks blocked): falling back to UDP over TCP (--udp-over-tcp=off keeps UDP).";

    private RelayServer _server = null!;

    public async Task InitializeAsync() => _server = await RelayServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Send_On_EchoAndTheTransportSaid()
    {
        await using var echo = UdpResponder.Echo();

        var result = await CliRun.InProcessAsync("hello\nworld\n", "send", "-v", "--udp-over-tcp", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", "--wait", "0.5");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello\nworld\n", result.Stdout);
        Assert.Matches($@"^s5nc: proxy {Escaped(_server.Proxy)}: UDP over TCP open in [0-9.]+ ms, notices and commands as control frames, local 127\.0\.0\.1:[0-9]+\n", result.Stderr);
        Assert.DoesNotContain("relay", result.Stderr);
    }

    [Fact]
    public async Task Send_OnBeforeTheHost_ClosedPort_ConnectionRefused()
    {
        int closed = FreePorts.ClosedUdp();

        var result = await CliRun.InProcessAsync("hello\n", "send", "--udp-over-tcp", "127.0.0.1", $"{closed}", "-x", _server.Proxy, "--wait", "10");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"s5nc: 127.0.0.1:{closed}: Connection refused (port-unreachable, reported by 127.0.0.1)\n", result.Stderr);
    }

    [Fact]
    public async Task Probe_On_OpenAndClosedPorts()
    {
        await using var echo = UdpResponder.Echo();
        int closed = FreePorts.ClosedUdp();

        var result = await CliRun.InProcessAsync(string.Empty, "probe", "--udp-over-tcp=on", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port},{closed}", "--json", "-t", "0.5", "-r", "0");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith($"{{\"host\":\"127.0.0.1\",\"port\":{echo.Port},\"state\":\"open\",\"reason\":\"reply\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{{\"host\":\"127.0.0.1\",\"port\":{closed},\"state\":\"closed\",\"reason\":\"port-unreachable\"", StringComparison.Ordinal));
        Assert.DoesNotContain("warning", result.Stderr);
    }

    [Fact]
    public async Task Trace_On_TheDestinationsPortUnreachableOverTheTcpConnection()
    {
        int closed = FreePorts.ClosedUdp();

        var result = await CliRun.InProcessAsync(string.Empty, "trace", "--udp-over-tcp", "-x", _server.Proxy, "127.0.0.1", "--port", $"{closed}", "-q", "1", "-w", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"\n 1  127\.0\.0\.1  [0-9.]+ ms\n$", result.Stdout);
    }

    [Fact]
    public async Task Forward_On_PlainUdpClientThroughTheTcpConnection()
    {
        await using var echo = UdpResponder.Echo();
        var stderr = new ForwardTests.LineWriter();
        using var stop = new CancellationTokenSource(TestTimeout.Default);
        var run = Cli.RunAsync(
            ["forward", "--udp-over-tcp", "-v", "-l", "127.0.0.1:0", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}"],
            TextReader.Null, TextWriter.Null, stderr, new Dictionary<string, string>(), stop.Token);
        string banner = await stderr.WaitForAsync(l => l.Contains("forwarding udp", StringComparison.Ordinal)).Within();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Connect(IPEndPoint.Parse(ForwardTests.ListenRegex().Match(banner).Groups[1].Value));
        var buffer = new byte[100];

        await client.SendAsync("through tcp"u8.ToArray());
        int n = await client.ReceiveAsync(buffer, TestTimeout.Token);
        await stop.CancelAsync();
        int exit = await run.Within();

        Assert.Equal("through tcp", Encoding.ASCII.GetString(buffer, 0, n));
        Assert.True(exit == 0, stderr.Text);
        Assert.Equal(2, stderr.Text.Split('\n').Count(l => l.Contains(": UDP over TCP open in ", StringComparison.Ordinal)));
        Assert.DoesNotContain("UDP association open", stderr.Text);
    }

    [Fact]
    public async Task On_AgainstAServerWithoutIt_SaysSo_ExitThree()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:UdpOverTcp"] = "off" });

        var result = await CliRun.InProcessAsync(string.Empty, "send", "--udp-over-tcp", "-x", server.Proxy, "127.0.0.1", "7", "--data", "x");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal($"s5nc: proxy {server.Proxy}: UDP over TCP is not offered by this proxy (it answered CMD 0x05 with REP 7, command not supported).\n", result.Stderr);
    }

    [Fact]
    public async Task Auto_WhereUdpReachesTheRelay_StaysWithUdp()
    {
        await using var echo = UdpResponder.Echo();

        var result = await CliRun.InProcessAsync("x\n", "send", "-v", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", "--wait", "0.3");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("x\n", result.Stdout);
        Assert.Contains("UDP association open", result.Stderr);
        Assert.Matches(@"s5nc: UDP reaches the relay 127\.0\.0\.1:[0-9]+: a notice answered the probe datagram in [0-9.]+ ms\.\n", result.Stderr);
        Assert.DoesNotContain("UDP over TCP", result.Stderr);
        Assert.DoesNotContain("0.0.0.0:9", result.Stderr);
    }

    [Fact]
    public async Task Auto_WithoutNotices_NeverFallsBack_AndSaysWhyWithVerbose()
    {
        // Advertised at 127.0.0.2, the relay gets nothing: only notices could tell, and there are none.
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Relay:Notices"] = "off",
            ["Relay:AdvertisedAddress:0"] = "127.0.0.2",
        });

        var result = await CliRun.InProcessAsync("x\n", "send", "-v", "-x", server.Proxy, "127.0.0.1", "7", "--wait", "0");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches($@"s5nc: proxy {Escaped(server.Proxy)} sent no NOTICES greeting within [0-9.]+ s: --udp-over-tcp=auto cannot tell whether UDP reaches its relay "
            + @"\(silence proves nothing there\), and stays with UDP\.\n", result.Stderr);
        Assert.DoesNotContain("falling back", result.Stderr);
        Assert.DoesNotContain("UDP over TCP open", result.Stderr);
    }

    [Fact]
    public async Task Auto_DatagramsToTheRelayLost_FallsBackOnce_ForSendAndProbe()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:AdvertisedAddress:0"] = "127.0.0.2" });
        await using var echo = UdpResponder.Echo();
        int closed = FreePorts.ClosedUdp();

        var send = await CliRun.InProcessAsync("hello\n", "send", "-x", server.Proxy, "127.0.0.1", $"{echo.Port}", "--wait", "0.5");
        var probe = await CliRun.InProcessAsync(string.Empty, "probe", "-x", server.Proxy, "127.0.0.1", $"{closed}", "--all", "-r", "0");

        Assert.True(send.ExitCode == 0, send.ToString());
        Assert.Equal("hello\n", send.Stdout);
        Assert.Matches($@"^s5nc: no notice answered a datagram sent to the relay 127\.0\.0\.2:[0-9]+ within [0-9.]+ s {Escaped(FallbackText)}\n$", send.Stderr);
        Assert.True(probe.ExitCode == 0, probe.ToString());
        Assert.Matches($@"127\.0\.0\.1  {closed}  closed  port-unreachable", probe.Stdout);
        Assert.Single(probe.Stderr.Split('\n'), l => l.EndsWith(FallbackText, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Auto_DatagramsToTheRelayLost_ButNoUdpOverTcpThere_ExitThreeSayingBoth()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Relay:AdvertisedAddress:0"] = "127.0.0.2",
            ["Relay:UdpOverTcp"] = "off",
        });

        var result = await CliRun.InProcessAsync(string.Empty, "probe", "-x", server.Proxy, "127.0.0.1", "7");

        Assert.True(result.ExitCode == 3, result.ToString());
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith(FallbackText, lines[0], StringComparison.Ordinal);
        Assert.Equal($"s5nc: proxy {server.Proxy}: UDP over TCP is not offered by this proxy (it answered CMD 0x05 with REP 7, command not supported).", lines[1]);
    }

    [Fact]
    public async Task Off_DatagramsToTheRelayLost_NoEcho_ExitZeroAsNcDoes()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:AdvertisedAddress:0"] = "127.0.0.2" });
        await using var echo = UdpResponder.Echo();

        var result = await CliRun.InProcessAsync("hello\n", "send", "--udp-over-tcp=off", "-x", server.Proxy, "127.0.0.1", $"{echo.Port}", "--wait", "0.5");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Equal(string.Empty, result.Stderr);
        Assert.Equal(0, echo.Received);
    }

    [Fact]
    public async Task Session_Auto_TheFirstAssociationDecidesForTheRun_AndChooseTransportNeedsNoKeeping()
    {
        await using var lossy = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:AdvertisedAddress:0"] = "127.0.0.2" });
        var stderr = new StringWriter();
        var console = new CliConsole { In = TextReader.Null, Out = TextWriter.Null, Error = stderr };
        var session = new ProxySession(OptionsOf(lossy), console, verbose: false, UdpOverTcpMode.Auto);

        await using (var first = await session.OpenAsync(TestTimeout.Token))
        await using (var second = await session.OpenAsync(TestTimeout.Token))
        {
            Assert.Equal(Socks5UdpTransport.Tcp, first.Transport);
            Assert.Equal(Socks5UdpTransport.Tcp, second.Transport);
        }

        Assert.Single(stderr.ToString().Split('\n'), l => l.EndsWith(FallbackText, StringComparison.Ordinal));
        Assert.Equal(Socks5UdpTransport.Tcp, await new ProxySession(OptionsOf(lossy), console, verbose: false, UdpOverTcpMode.Auto).ChooseTransportAsync(TestTimeout.Token));
        Assert.Equal(Socks5UdpTransport.Udp, await new ProxySession(OptionsOf(_server), console, verbose: false, UdpOverTcpMode.Auto).ChooseTransportAsync(TestTimeout.Token));
        Assert.Equal(Socks5UdpTransport.Tcp, await new ProxySession(OptionsOf(_server), console, verbose: false, UdpOverTcpMode.On).ChooseTransportAsync(TestTimeout.Token));
    }

    [Theory]
    [InlineData("send", "Default: auto.")]
    [InlineData("probe", "Default: auto.")]
    [InlineData("forward", "Default: off.")]
    [InlineData("trace", "Default: off.")]
    public async Task Help_ShowsEachCommandsDefault(string command, string text)
    {
        var result = await CliRun.InProcessAsync(string.Empty, command, "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches($@"--udp-over-tcp <auto\|on\|off>\s+Datagrams over the proxy's TCP connection[^\n]*{Escaped(text)}", result.Stdout);
    }

    [Theory]
    [InlineData("--udp-over-tcp=yes")]
    [InlineData("--udp-over-tcp=")]
    public async Task BadValue_UsageError(string option)
    {
        var result = await CliRun.InProcessAsync(string.Empty, "send", option, "127.0.0.1", "7", "--data", "x");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--udp-over-tcp: '", result.Stderr);
        Assert.Contains("is not auto, on or off", result.Stderr);
    }

    private static Socks5ProxyOptions OptionsOf(RelayServer server) => new()
    {
        Host = server.EndPoint.Address.ToString(),
        Port = server.EndPoint.Port,
        ConnectTimeout = TestTimeout.Default,
        HandshakeTimeout = TestTimeout.Default,
    };

    private static string Escaped(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}
