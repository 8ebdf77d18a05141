using Socks5UdpRelay.Cli.Tests.Fixtures;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary>--help, --version and the usage errors of the command line as a whole.</summary>
public sealed class HelpTests
{
    [Theory]
    [InlineData("", "s5nc send 127.0.0.1 7")]
    [InlineData("send", "s5nc send 127.0.0.1 5999 --data ping")]
    [InlineData("probe", "s5nc probe 127.0.0.1 1-1000")]
    [InlineData("forward", "s5nc forward --listen 127.0.0.1:5353")]
    public async Task Help_EveryCommandHasUsageOptionsAndExamples(string command, string example)
    {
        string[] args = command.Length == 0 ? ["--help"] : [command, "--help"];

        var result = await CliRun.InProcessAsync(string.Empty, args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Usage:", result.Stdout);
        Assert.Contains("--proxy", result.Stdout);
        Assert.Contains("Examples:", result.Stdout);
        Assert.Contains(example, result.Stdout);
    }

    [Fact]
    public async Task Version_PrintsAVersion()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "--version");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"^\d+\.\d+\.\d+", result.Stdout);
    }

    [Theory]
    [InlineData("send 127.0.0.1 0", "s5nc: error: PORT: '0' is not a UDP port (1 to 65535).")]
    [InlineData("send 127.0.0.1 7 --data x --file y", "s5nc: error: --data and --file cannot be used together.")]
    [InlineData("send 127.0.0.1 7 -4 -6", "s5nc: error: -4 and -6 cannot be used together.")]
    [InlineData("send -4 ::1 7 --data x", "s5nc: error: -4: '::1' is an IPv6 address.")]
    [InlineData("send 127.0.0.1", "s5nc: error: Required argument 'PORT' missing for command: 'send'.")]
    [InlineData("frobnicate", "s5nc: error: Unrecognized command or argument 'frobnicate'.")]
    [InlineData("forward 127.0.0.1 7", "s5nc: error: Option '--listen' is required.")]
    [InlineData("forward -l localhost:53 127.0.0.1 7", "s5nc: error: --listen: 'localhost:53' is not ADDRESS:PORT (as 127.0.0.1:5353 or [::1]:5353).")]
    public async Task UsageErrors_ExitTwoWithTheReason(string args, string message)
    {
        var result = await CliRun.InProcessAsync(string.Empty, args.Split(' '));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
