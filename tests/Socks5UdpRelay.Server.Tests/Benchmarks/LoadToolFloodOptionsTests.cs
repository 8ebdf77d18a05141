using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Benchmarks;

/// <summary>
/// <c>load --flood</c> refuses what it cannot measure, or must not flood, with usage (exit 2) and
/// a line naming the option, before it starts anything: above all a destination outside loopback
/// and the private ranges.
/// </summary>
public sealed class LoadToolFloodOptionsTests
{
    [Theory]
    [InlineData("--flood nonsense", "--flood nonsense: slow-destination or stranger")]
    [InlineData("--flood slow-destination", "--flood slow-destination needs --slow-destination HOST:PORT")]
    [InlineData("--flood slow-destination --slow-destination 192.0.2.1:9", "--slow-destination 192.0.2.1:9: an IPv4 HOST:PORT on loopback or in a private network")]
    [InlineData("--flood slow-destination --slow-destination 10.0.0.1:0", "--slow-destination 10.0.0.1:0:")]
    [InlineData("--flood stranger --stranger-address 10.0.0.1", "--stranger-address 10.0.0.1: an IPv4 loopback address")]
    [InlineData("--flood stranger --flood-rate -1", "--flood-rate: 0 (as fast as it can) .. 10000000 datagrams/s")]
    [InlineData("--flood stranger --filtering full-cone", "--filtering: a list of endpoint-independent, address-dependent, address-and-port-dependent")]
    [InlineData("--flood stranger --transport tcp", "--flood measures datagrams over UDP: no --transport tcp")]
    [InlineData("--flood stranger --target direct", "--flood starts our server itself")]
    public async Task BadFloodOptions_AreRefusedWithUsage(string arguments, string expected)
    {
        var (exitCode, stdout, stderr) = await LoadTool.RunAsync(["load", .. arguments.Split(' ')], TestTimeout.Default);
        Assert.True(exitCode == 2, $"exit {exitCode}:\n{stdout}{stderr}");
        Assert.Contains($"error: {expected}", stderr, StringComparison.Ordinal);
        Assert.Contains("load --flood KIND", stderr, StringComparison.Ordinal);
    }
}
