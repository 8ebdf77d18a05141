using System.Text;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests.Native;

/// <summary>
/// The native s5nc (Native AOT, README "Native s5nc") does what the JIT-compiled one does:
/// the same version, the same probe verdicts and notices, datagrams over UDP and over TCP. Its
/// publish needs clang and zlib's headers (apt: clang zlib1g-dev), which <c>.ci/run</c> installs.
/// </summary>
public sealed class NativeAotTests(NativeS5nc native) : IClassFixture<NativeS5nc>, IAsyncLifetime
{
    private const string Clang = "/usr/bin/clang";
    private const string ZlibHeader = "/usr/include/zlib.h";

    private RelayServer _server = null!;

    public async Task InitializeAsync() => _server = await RelayServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [PeerFact(Clang, ZlibHeader)]
    public async Task Native_Version_IsTheBuildsVersion()
    {
        var jit = await CliRun.ProcessAsync([], null, "--version");
        var aot = await CliRun.ExecutableAsync(native.Path, ["--version"], []);

        Assert.True(aot.ExitCode == 0, aot.ToString());
        Assert.Equal(jit.Stdout, aot.Stdout);
    }

    [PeerFact(Clang, ZlibHeader)]
    public async Task Native_Probe_FindsAnOpenAndAClosedPort_AsTheJitBuildDoes()
    {
        await using var echo = UdpResponder.Echo();
        int closed = FreePorts.ClosedUdp();
        string[] args = ["probe", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port},{closed}", "--json", "--timeout", "1"];

        var jit = await CliRun.InProcessAsync(string.Empty, args);
        var aot = await CliRun.ExecutableAsync(native.Path, args, []);

        Assert.True(aot.ExitCode == jit.ExitCode, aot.ToString());
        var lines = ProbeLine.ParseAll(aot.Stdout).ToDictionary(l => l.Port);
        Assert.Equal(("open", "reply"), (lines[echo.Port].State, lines[echo.Port].Reason));
        Assert.Equal(("closed", "port-unreachable", "127.0.0.1"), (lines[closed].State, lines[closed].Reason, lines[closed].From));
        Assert.Equal(ProbeLine.ParseAll(jit.Stdout).Select(l => (l.Port, l.State, l.Reason)), ProbeLine.ParseAll(aot.Stdout).Select(l => (l.Port, l.State, l.Reason)));
    }

    [PeerFact(Clang, ZlibHeader)]
    public async Task Native_Send_EchoesOverUdpAndOverTcp_AndReportsAClosedPort()
    {
        await using var echo = UdpResponder.Echo();
        int closed = FreePorts.ClosedUdp();

        var overUdp = await CliRun.ExecutableAsync(native.Path, ["send", "-x", _server.Proxy, "127.0.0.1", $"{echo.Port}", "--wait", "0.5"], Encoding.ASCII.GetBytes("hello\n"));
        var overTcp = await CliRun.ExecutableAsync(native.Path, ["send", "-x", _server.Proxy, "--udp-over-tcp=on", "127.0.0.1", $"{echo.Port}", "--wait", "0.5"], Encoding.ASCII.GetBytes("hello\n"));
        var refused = await CliRun.ExecutableAsync(native.Path, ["send", "-x", _server.Proxy, "127.0.0.1", $"{closed}", "--wait", "10"], Encoding.ASCII.GetBytes("hello\n"));

        Assert.True(overUdp.ExitCode == 0 && overUdp.Stdout == "hello\n", overUdp.ToString());
        Assert.True(overTcp.ExitCode == 0 && overTcp.Stdout == "hello\n", overTcp.ToString());
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Equal($"s5nc: 127.0.0.1:{closed}: Connection refused (port-unreachable, reported by 127.0.0.1)\n", refused.Stderr);
    }
}
