using Xunit;

namespace Socks5UdpRelay.Server.Tests.Benchmarks;

/// <summary>
/// CI runs the load tool's smoke mode through the test command: it starts our server, relays
/// through it and checks every reply (length, content, source). It asserts correctness only,
/// never a timing.
/// </summary>
public sealed class LoadToolSmokeTests
{
    [Fact]
    public async Task LoadToolSmoke_RepliesArriveAndAreCorrect()
    {
        var (exitCode, stdout, stderr) = await LoadTool.RunAsync(["load", "--smoke"], TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, stdout + stderr);
    }
}
