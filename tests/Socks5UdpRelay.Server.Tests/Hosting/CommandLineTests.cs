using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hosting;

/// <summary><c>--help</c> and <c>--version</c> answer and exit; the version, the listener and the policy in force are the first lines a started server logs.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Help_ListsTheSectionsAndMostUsedKeys_AndExitsWithoutStarting(string option)
    {
        await using var server = ServerProcess.Launch([option]);

        Assert.Equal(0, await server.WaitForExitAsync(TestTimeout.Default));
        Assert.Contains(server.Output, l => l.StartsWith("Sections: Relay, Policy, Auth, Limits, Metrics, Admin, LogFormat, Serilog.", StringComparison.Ordinal));
        Assert.Contains(server.Output, l => l.Contains("Relay:Listen:0", StringComparison.Ordinal) && l.Contains("127.0.0.1:1080", StringComparison.Ordinal));
        Assert.Contains(server.Output, l => l.Contains("Relay:HandshakeTimeout", StringComparison.Ordinal) && l.Contains("00:00:10", StringComparison.Ordinal));
        Assert.Contains(server.Output, l => l.Contains("README.md", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Output, l => l.Contains("Listening for SOCKS5", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Version_PrintsTheVersion_AndExits()
    {
        await using var server = ServerProcess.Launch(["--version"]);

        Assert.Equal(0, await server.WaitForExitAsync(TestTimeout.Default));
        Assert.Matches(@"^Socks5UdpRelay\.Server \d+\.\d+\.\d+", Assert.Single(server.Output));
    }

    [Fact]
    public async Task Start_LogsVersionListenerAndPolicy()
    {
        await using var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0", "--Policy:AllowClients:0=192.0.2.0/24", "--Relay:UdpPortRange=40000-40099", "--Limits:MaxAssociationsPerClient=25"]);

        Assert.Contains(server.Output, l => l.Contains("Socks5UdpRelay.Server 0.", StringComparison.Ordinal) && l.Contains("starting on .NET", StringComparison.Ordinal) && l.Contains("SOCKS5 on 127.0.0.1:0", StringComparison.Ordinal));
        Assert.Contains(server.Output, l => l.Contains("Policy: clients 192.0.2.0/24; authentication none;", StringComparison.Ordinal) && l.Contains("UDP ports 40000-40099", StringComparison.Ordinal));
    }
}
