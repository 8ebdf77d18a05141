using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Doctor;

/// <summary>What doctor says about a port that is not SOCKS5, about bad options, and how it shows progress on a terminal.</summary>
public sealed class DoctorEdgeTests
{
    [Fact]
    public async Task HttpProxyPort_AuthenticationStageNamesIt()
    {
        // What an HTTP proxy (squid, tinyproxy) answers to bytes it cannot parse.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptAsync();
            await client.ReceiveAsync(new byte[64], SocketFlags.None);
            await client.SendAsync("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"u8.ToArray(), SocketFlags.None);
            client.Shutdown(SocketShutdown.Both);
        });

        var run = await DoctorRun.InProcessAsync(null, "--proxy", listener.LocalEndPoint!.ToString()!);
        await serve.Within();

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Equal("fail", run.Stage("auth").GetProperty("verdict").GetString());
        Assert.Contains("\"HTTP/1.1 400 Bad", run.Saw("auth"), StringComparison.Ordinal);
        Assert.Contains("HTTP proxy", run.Fix("auth"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClosedProxyPort_FailsAtStage1WithTheAddressTried_Exit3()
    {
        int port = FreePorts.Tcp();

        var run = await DoctorRun.InProcessAsync(null, "--proxy", $"127.0.0.1:{port}");

        Assert.Equal(3, run.ExitCode);
        Assert.Equal($"could not connect: 127.0.0.1:{port}: refused", run.Saw("proxy"));
        Assert.Equal("fail skip skip skip skip skip skip skip skip skip", run.Verdicts);
        Assert.Equal("proxy", run.Summary.GetProperty("failed_stage").GetString());
    }

    [Theory]
    [InlineData("--target", "192.0.2.7")]
    [InlineData("--stun", "[2001:db8::1")]
    [InlineData("--idle", "0")]
    [InlineData("--timeout", "abc")]
    public async Task BadOption_IsAUsageError(string option, string value)
    {
        var result = await CliRun.InProcessAsync(string.Empty, "doctor", option, value);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task OnATerminal_StderrShowsTheRunningStage_AndClearsItBeforeEachLine()
    {
        await using var server = await RelayServer.StartAsync();
        var output = new StringWriter();
        var error = new StringWriter();
        var console = TerminalConsole.Create(output, error);

        int exit = await Cli.RunAsync(["doctor", "--proxy", server.Proxy], console, TestTimeout.Token).Within();

        Assert.Equal(0, exit);
        string progress = error.ToString();
        Assert.Contains("\r\x1b[Ks5nc doctor: [1/10] proxy reachable ...", progress, StringComparison.Ordinal);
        Assert.Contains("[7/10] UDP over TCP ...", progress, StringComparison.Ordinal);
        Assert.EndsWith("\r\x1b[K", progress, StringComparison.Ordinal);
        Assert.DoesNotContain("\x1b", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_ReachedDuringAStage_ThatStageFails_TheRestAreSkipped()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Notices"] = "off" });
        await using var silent = UdpResponder.Silent();

        var run = await DoctorRun.InProcessAsync(null, "--proxy", server.Proxy, "--target", $"127.0.0.1:{silent.Port}", "--timeout", "1");

        Assert.Equal("ok ok ok ok fail skip skip skip skip skip", run.Verdicts);
        Assert.Equal("--timeout (1 s) was reached during this stage", run.Saw("datagrams"));
        Assert.Equal("not run: --timeout (1 s) was reached", run.Saw("idle"));
        Assert.Equal(1, run.ExitCode);
        // The run's clock starts a moment after the deadline's timer, which may fire a millisecond early: not 1000 exactly.
        Assert.InRange(run.Summary.GetProperty("elapsed_ms").GetDouble(), 950, 30_000);
    }
}
