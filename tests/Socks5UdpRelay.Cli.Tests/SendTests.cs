using System.Text;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary><c>s5nc send</c> through the project's server, in process and as a real process.</summary>
public sealed class SendTests : IAsyncLifetime
{
    private RelayServer _server = null!;

    public async Task InitializeAsync() => _server = await RelayServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Send_EchoRoundTrip_EachLineIsOneDatagram()
    {
        await using var echo = UdpResponder.Echo();

        var result = await CliRun.InProcessAsync("hello\nworld\n", "send", "--proxy", _server.Proxy, "127.0.0.1", $"{echo.Port}", "--wait", "0.5");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello\nworld\n", result.Stdout);
        Assert.Equal(2, echo.Received);
        Assert.Equal(string.Empty, result.Stderr);
    }

    [Fact]
    public async Task Send_ClosedPort_ExitsOneWithConnectionRefused()
    {
        int closed = FreePorts.ClosedUdp();

        // --wait 10: the notice, not the wait, must end it.
        var result = await CliRun.InProcessAsync("hello\n", "send", "--proxy", _server.Proxy, "127.0.0.1", $"{closed}", "--wait", "10");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"s5nc: 127.0.0.1:{closed}: Connection refused (port-unreachable, reported by 127.0.0.1)\n", result.Stderr);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(5), result.ToString());
    }

    [Fact]
    public async Task Send_ClosedPortWithKeepGoing_SendsEveryLineAndExitsOneAtTheEnd()
    {
        int closed = FreePorts.ClosedUdp();

        var result = await CliRun.InProcessAsync("a\nb\nc\n", "send", "--proxy", _server.Proxy, "127.0.0.1", $"{closed}", "--keep-going", "--wait", "0.5");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"127.0.0.1:{closed}: Connection refused", result.Stderr);
    }

    [Fact]
    public async Task Send_DataWithCount_SendsItThatManyTimes()
    {
        await using var echo = UdpResponder.Echo();

        var result = await CliRun.InProcessAsync(string.Empty, "send", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", "--data", "ping", "--count", "3", "--interval", "0.05", "--wait", "0.5");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("pingpingping", result.Stdout);
    }

    [Fact]
    public async Task Send_File_IsOneDatagram()
    {
        await using var echo = UdpResponder.Echo();
        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "line one\nline two\n");
        try
        {
            var result = await CliRun.InProcessAsync(string.Empty, "send", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", "--file", file, "--wait", "0.5");

            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal("line one\nline two\n", result.Stdout);
            Assert.Equal(1, echo.Received);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Send_NameTheProxyCannotResolve_ExitsOne()
    {
        var result = await CliRun.InProcessAsync("x\n", "send", "-x", _server.Proxy, "nosuch.test", "53", "--wait", "10");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("s5nc: nosuch.test:53: the proxy could not resolve the name (no-such-name)\n", result.Stderr);
    }

    [Fact]
    public async Task Send_NameGoesToTheProxy_Localhost()
    {
        await using var echo = UdpResponder.Echo();

        var result = await CliRun.InProcessAsync("by name\n", "send", "-x", _server.Proxy, "localhost", $"{echo.Port}", "--wait", "0.5", "--verbose");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("by name\n", result.Stdout);
        Assert.Contains("notice: NOTICES version=1", result.Stderr);
        Assert.Contains($"8 bytes from 127.0.0.1:{echo.Port}", result.Stderr);
    }

    [Fact]
    public async Task Send_ProxyNotListening_ExitsThree()
    {
        var result = await CliRun.InProcessAsync("x\n", "send", "-x", $"127.0.0.1:{FreePorts.Tcp()}", "127.0.0.1", "7");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("Connection refused", result.Stderr);
    }

    [Fact]
    public async Task Send_ProxyRefusesTheRequest_ExitsThree()
    {
        await using var proxy = new ScriptedProxy(rejectPassword: false);

        var result = await CliRun.InProcessAsync("x\n", "send", "-x", proxy.EndPoint.ToString(), "127.0.0.1", "7");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("refused", result.Stderr);
    }

    [Fact]
    public async Task Send_ProxyRejectsThePassword_ExitsFour()
    {
        await using var proxy = new ScriptedProxy(rejectPassword: true);
        var environment = new Dictionary<string, string> { ["S5_TEST_PASSWORD"] = "wrong" };

        var result = await CliRun.ProcessAsync([], environment, "send", "-x", $"socks5://alice@{proxy.EndPoint}", "--password-env", "S5_TEST_PASSWORD", "127.0.0.1", "7", "--data", "x");

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("rejected the username and password", result.Stderr);
    }

    [Fact]
    public async Task Send_PasswordOnTheCommandLine_IsAUsageError()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "send", "-x", $"socks5://alice:secret@{_server.Proxy}", "127.0.0.1", "7", "--data", "x");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("do not put a password on the command line", result.Stderr);
        Assert.DoesNotContain("secret", result.Stderr);
    }

    [Fact]
    public async Task Process_StdinEof_LastLineWithoutNewlineIsSentAndItExitsAfterWait()
    {
        await using var echo = UdpResponder.Echo();

        var result = await CliRun.ProcessAsync("first\nlast"u8.ToArray(), null, "send", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", "--wait", "0.5");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("first\nlast", result.Stdout);
        Assert.Equal(2, echo.Received);
    }

    [Fact]
    public async Task Process_EmptyStdin_SendsNothingAndExitsZero()
    {
        await using var echo = UdpResponder.Echo();

        var result = await CliRun.ProcessAsync([], null, "send", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", "--wait", "0.2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(0, echo.Received);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task Process_ClosedPort_ExitCodeOne()
    {
        int closed = FreePorts.ClosedUdp();

        var result = await CliRun.ProcessAsync("hello\n"u8.ToArray(), null, "send", "-x", _server.Proxy, "127.0.0.1", $"{closed}", "--wait", "10");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"s5nc: 127.0.0.1:{closed}: Connection refused (port-unreachable, reported by 127.0.0.1)\n", result.Stderr);
    }

    [Fact]
    public async Task Process_RawBinary_EveryByteValueRoundTrips()
    {
        await using var echo = UdpResponder.Echo();
        byte[] all = [.. Enumerable.Range(0, 256).Select(i => (byte)i)];

        var result = await CliRun.ProcessAsync(all, null, "send", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", "--raw", "--wait", "0.5");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(all, result.RawStdout);
    }

    [Fact]
    public async Task Process_ProxyFromEnvironment_IsUsed()
    {
        await using var echo = UdpResponder.Echo();
        var environment = new Dictionary<string, string> { ["SOCKS5_PROXY"] = _server.Proxy };

        var result = await CliRun.ProcessAsync(Encoding.ASCII.GetBytes("env\n"), environment, "send", "127.0.0.1", $"{echo.Port}", "--wait", "0.3");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("env\n", result.Stdout);
    }
}
