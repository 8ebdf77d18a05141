using Socks5UdpRelay.Cli.Tests.Fixtures;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary><c>s5nc tun</c>'s arguments, refused before anything touches the host (exit 2, the bad value named).</summary>
public sealed class TunCommandTests
{
    [Theory]
    [InlineData(new[] { "tun" }, "Option '--route' is required.")]
    [InlineData(new[] { "tun", "--route", "10.0.0.1/8" }, "--route: '10.0.0.1/8' has host bits set; the prefix is 10.0.0.0/8.")]
    [InlineData(new[] { "tun", "--route", "2001:db8::1/32" }, "--route: '2001:db8::1/32' has host bits set; the prefix is 2001:db8::/32.")]
    [InlineData(new[] { "tun", "--route", "10.0.0.0" }, "--route: '10.0.0.0' is not a prefix (as 192.0.2.0/24 or 2001:db8::/32).")]
    [InlineData(new[] { "tun", "--route", "example.org/24" }, "--route: 'example.org/24' is not a prefix (as 192.0.2.0/24 or 2001:db8::/32).")]
    [InlineData(new[] { "tun", "--route", "10.0.0.0/8", "--mtu", "1000" }, "--mtu: a number from 1280 to 65535.")]
    [InlineData(new[] { "tun", "--route", "10.0.0.0/8", "--max-flows", "0" }, "--max-flows: a number from 1 to 65536.")]
    [InlineData(new[] { "tun", "--route", "10.0.0.0/8", "--idle", "0" }, "--idle: '0' is not a number of seconds (more than 0 to 86400).")]
    public async Task BadArguments_AreUsageErrors_NamingTheValue(string[] args, string expected)
    {
        var result = await CliRun.InProcessAsync(string.Empty, args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"s5nc: error: {expected}\n", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsTheOptionsAndExitCodeFive()
    {
        var tun = await CliRun.InProcessAsync(string.Empty, "tun", "--help");
        var root = await CliRun.InProcessAsync(string.Empty, "--help");

        Assert.Equal(0, tun.ExitCode);
        foreach (var option in new[] { "--route", "--name", "--mtu", "--idle", "--finished-idle", "--max-flows", "--capture-forwarded", "--proxy", "Examples:", "Exit 5" })
        {
            Assert.Contains(option, tun.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("5 tun could not set up the host", root.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ShowsUdpOverTcp_WithItsDefaultAuto()
    {
        var tun = await CliRun.InProcessAsync(string.Empty, "tun", "--help");

        Assert.Equal(0, tun.ExitCode);
        Assert.Matches(@"--udp-over-tcp <auto\|on\|off>\s+Datagrams over the proxy's TCP connection", tun.Stdout);
        Assert.Contains("Default: auto.", tun.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UdpOverTcp_ABadValue_IsAUsageError()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "tun", "--route", "10.0.0.0/8", "--udp-over-tcp=maybe");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("s5nc: error: --udp-over-tcp: 'maybe' is not auto, on or off", result.Stderr, StringComparison.Ordinal);
    }
}
