using System.Text.Json;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hosting;

/// <summary>The server as its own process: graceful shutdown on SIGTERM, the health check command, JSON logs.</summary>
public sealed class ProcessTests
{
    private const int SigTerm = 15;

    [Fact]
    public async Task Sigterm_TellsEveryAssociationClosing_ThenExitsZero()
    {
        await using var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0", "--Relay:ShutdownGracePeriod=00:00:05"]);
        await using var first = await RawAssociation.OpenAsync(server.EndPoint);
        await using var second = await RawAssociation.OpenAsync(server.EndPoint);
        await server.WaitForLineAsync(l => l.Contains("UDP association opened", StringComparison.Ordinal) && server.CountLines(x => x.Contains("UDP association opened", StringComparison.Ordinal)) == 2);

        server.Signal(SigTerm);
        foreach (var association in new[] { first, second })
        {
            Assert.Equal("CLOSING reason=shutdown", await association.Control.ReadLineAsync());
            Assert.Null(await association.Control.ReadLineAsync());
        }

        Assert.Equal(0, await server.WaitForExitAsync(TestTimeout.Default));
        Assert.Equal(2, server.CountLines(l => l.Contains("UDP association closed (server shutdown)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task HealthCheck_IsHealthyAgainstARunningServer_UnhealthyWithout()
    {
        await using (var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0"]))
        {
            await using var check = ServerProcess.Launch(["healthcheck", $"--Relay:Listen:0={server.EndPoint}"]);
            Assert.Equal(0, await check.WaitForExitAsync(TestTimeout.Default));
            Assert.Contains(check.Output, l => l.StartsWith("healthy", StringComparison.Ordinal));
        }

        int free = FreePorts.Tcp();
        await using var none = ServerProcess.Launch(["healthcheck", $"--Relay:Listen:0=127.0.0.1:{free}"]);
        Assert.Equal(1, await none.WaitForExitAsync(TestTimeout.Default));
        Assert.Contains(none.Output, l => l.StartsWith("unhealthy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LogFormatJson_WritesOneJsonObjectPerLine()
    {
        await using var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0", "--LogFormat=json"]);
        string line = await server.WaitForLineAsync(l => l.Contains("Listening for SOCKS5", StringComparison.Ordinal));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("Information", json.RootElement.GetProperty("Level").GetString());
        Assert.Equal($"Listening for SOCKS5 on {server.EndPoint}", json.RootElement.GetProperty("RenderedMessage").GetString());
        Assert.Equal(server.EndPoint.ToString(), json.RootElement.GetProperty("Properties").GetProperty("Endpoint").GetString());
    }
}
