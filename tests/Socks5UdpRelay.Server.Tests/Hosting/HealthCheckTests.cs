using System.Net;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hosting;

/// <summary>
/// The health check against a server whose client allow-list leaves this host out (the README's
/// own example, 192.0.2.0/24): this host gets "no acceptable methods" and nothing more, which the
/// health check counts as alive.
/// </summary>
public sealed class HealthCheckTests
{
    private const string ReadmeAllowList = "192.0.2.0/24";

    [Theory]
    [InlineData("0.0.0.0")] // the image's listener: the check goes through loopback
    [InlineData("127.0.0.1")]
    public async Task HealthCheck_WithAnAllowListThatLeavesThisHostOut_IsHealthy(string listen)
    {
        await using var server = await ServerProcess.StartAsync([$"--Relay:Listen:0={listen}:0", $"--Policy:AllowClients:0={ReadmeAllowList}"]);

        await using var check = ServerProcess.Launch(["healthcheck", $"--Relay:Listen:0={listen}:{server.EndPoint.Port}", $"--Policy:AllowClients:0={ReadmeAllowList}"]);

        Assert.Equal(0, await check.WaitForExitAsync(TestTimeout.Default));
        Assert.Contains(check.Output, l => l.StartsWith($"healthy: 127.0.0.1:{server.EndPoint.Port} answers SOCKS5 (no acceptable methods", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ThisHostOutsideTheAllowList_IsAnsweredNoAcceptableMethods_AndGetsNoSession()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Policy:AllowClients:0"] = ReadmeAllowList });
        await using var socks = await RawSocks.ConnectAsync(server.EndPoint);

        // Greeting and an ASSOCIATE request at once: only the greeting is ever answered.
        await socks.SendAsync(0x05, 0x01, 0x00, 0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0);

        Assert.Equal(new byte[] { 0x05, 0xFF }, await socks.ReadAsync(2));
        Assert.True(await socks.ClosedByServerAsync());
        Assert.Equal(0, server.Endpoints.OpenAssociations);
        Assert.Contains(server.Logs.Events, e => e.Level == LogLevel.Debug && e.Message.StartsWith("127.0.0.1:", StringComparison.Ordinal) && e.Message.Contains("answering its greeting with no acceptable methods (the health check's answer)", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Events, e => e.Message.Contains("connection refused: not in Policy:AllowClients", StringComparison.Ordinal) || e.Message.Contains("UDP association opened", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ThisHostInsideTheAllowList_IsServedAsEver()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Policy:AllowClients:0"] = "127.0.0.0/8" });
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);

        Assert.Equal(IPAddress.Loopback, association.Relay.Address);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1", true)]
    [InlineData("127.0.0.5", "127.0.0.1", true)]
    [InlineData("::1", "::1", true)]
    [InlineData("10.0.0.5", "10.0.0.5", true)] // a listener on an interface address, reached from the host itself
    [InlineData("10.0.0.6", "10.0.0.5", false)]
    [InlineData("192.0.2.7", "0.0.0.0", false)]
    public void FromThisHost_IsLoopbackOrTheListenersOwnAddress(string peer, string local, bool expected)
        => Assert.Equal(expected, Server.Control.LocalProbeAnswer.IsFromThisHost(IPAddress.Parse(peer), IPAddress.Parse(local)));
}
