using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Deployment;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Tests.Hosting;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// No client takes every slot: one client's associations fit in the relay port range, an IPv6
/// client counts per /64, and stalled handshakes count per network, so many addresses of one
/// network cannot fill the server's connection limit.
/// </summary>
public sealed class SlotExhaustionTests
{
    [Theory]
    [InlineData("40000-40099", "101", true)]
    [InlineData("40000-40099", "100", false)]
    [InlineData("40000-40000", "2", true)]
    [InlineData(null, "100000", false)]
    public void MaxAssociationsPerClient_LargerThanTheUdpPortRange_IsRefused_NamingBothKeys(string? range, string perClient, bool refused)
    {
        var errors = RelayHostValidation.Validate(new() { ["Relay:UdpPortRange"] = range, ["Limits:MaxAssociationsPerClient"] = perClient });

        var error = errors.SingleOrDefault(e => e.Contains("MaxAssociationsPerClient", StringComparison.Ordinal));
        Assert.Equal(refused, error is not null);
        if (error is not null)
        {
            Assert.Contains($"Limits:MaxAssociationsPerClient = {perClient}", error, StringComparison.Ordinal);
            Assert.Contains($"Relay:UdpPortRange = '{range}'", error, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The image's range with its per-client limit passes the rule (compose and Kubernetes set the
    /// image's values: ManifestConsistencyTests); the server's default of 128 with that range
    /// would not. Before: the image gave 100 relay ports and let one client hold 128.
    /// </summary>
    [Fact]
    public void ShippedImage_PerClientLimitFitsItsRange()
    {
        var environment = Dockerfile.Load(RepositoryFiles.Dockerfile).Environment;
        var settings = environment.ToDictionary(kv => AppSettings.KeyOf(kv.Key), kv => (string?)kv.Value);

        Assert.DoesNotContain(RelayHostValidation.Validate(settings), e => e.Contains("MaxAssociationsPerClient", StringComparison.Ordinal));
        settings.Remove("Limits:MaxAssociationsPerClient");
        Assert.Contains(RelayHostValidation.Validate(settings), e => e.Contains("MaxAssociationsPerClient", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("2001:db8:1:2::1", 64, "2001:db8:1:2::")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", 64, "2001:db8:1:2::")]
    [InlineData("2001:db8:1:2::1", 128, "2001:db8:1:2::1")]
    [InlineData("2001:db8:1:2::1", 48, "2001:db8:1::")]
    [InlineData("fe80::1%2", 64, "fe80::")]
    [InlineData("::ffff:192.0.2.7", 64, "192.0.2.7")]
    [InlineData("192.0.2.7", 64, "192.0.2.7")]
    public void ClientKey_IPv6ByPrefix_IPv4ByAddress(string address, int prefix, string key)
        => Assert.Equal(IPAddress.Parse(key), new NetworkKey(32, prefix).Of(IPAddress.Parse(address)));

    [Theory]
    [InlineData("192.0.2.7", "192.0.2.0")]
    [InlineData("192.0.2.255", "192.0.2.0")]
    [InlineData("2001:db8::7", "2001:db8::")]
    public void HandshakeNetwork_IPv4By24_IPv6By64(string address, string network)
        => Assert.Equal(IPAddress.Parse(network), new NetworkKey(24, 64).Of(IPAddress.Parse(address)));

    /// <summary>Two addresses of one /64 are one client for connections and associations; another /64 is another client.</summary>
    [Fact]
    public void PerClientLimits_CountAnIPv6ClientPer64()
    {
        var tracker = new ClientTracker(Options.Create(new LimitsOptions { MaxConnectionsPerClient = 2, MaxAssociationsPerClient = 1 }));

        Assert.True(tracker.TryOpenConnection(IPAddress.Parse("2001:db8:1::1"), out var a, out _));
        Assert.True(tracker.TryOpenConnection(IPAddress.Parse("2001:db8:1::2"), out _, out _));
        Assert.False(tracker.TryOpenConnection(IPAddress.Parse("2001:db8:1:0:aaaa::3"), out _, out string? limit));
        Assert.Equal("Limits:MaxConnectionsPerClient=2 for 2001:db8:1::/64", limit);
        Assert.True(tracker.TryOpenConnection(IPAddress.Parse("2001:db8:2::1"), out _, out _));

        Assert.True(tracker.TryOpenAssociation(IPAddress.Parse("2001:db8:1::1"), out _));
        Assert.False(tracker.TryOpenAssociation(IPAddress.Parse("2001:db8:1::2"), out _));
        tracker.CloseAssociation(IPAddress.Parse("2001:db8:1::1"));
        Assert.True(tracker.TryOpenAssociation(IPAddress.Parse("2001:db8:1::2"), out _));

        tracker.CloseConnection(a!);
        tracker.CloseConnection(a!); // closing twice frees one slot, once
        Assert.True(tracker.TryOpenConnection(IPAddress.Parse("2001:db8:1::9"), out _, out _));
        Assert.False(tracker.TryOpenConnection(IPAddress.Parse("2001:db8:1::a"), out _, out _));

        var perAddress = new ClientTracker(Options.Create(new LimitsOptions { MaxConnectionsPerClient = 1, ClientIPv6PrefixLength = 128 }));
        Assert.True(perAddress.TryOpenConnection(IPAddress.Parse("2001:db8:1::1"), out _, out _));
        Assert.True(perAddress.TryOpenConnection(IPAddress.Parse("2001:db8:1::2"), out _, out _));
        Assert.True(perAddress.TryOpenConnection(IPAddress.Parse("192.0.2.1"), out _, out _));
        Assert.False(perAddress.TryOpenConnection(IPAddress.Parse("192.0.2.1"), out _, out _));
        Assert.True(perAddress.TryOpenConnection(IPAddress.Parse("192.0.2.2"), out _, out _));
    }

    /// <summary>
    /// Stalled handshakes from 17 addresses of one /24 (the attack: with defaults, 17 × 256 per
    /// client filled the 4 096 connections in total; here scaled down to 17 × 8 against 64) take
    /// at most <c>Limits:MaxHandshakesPerNetwork</c> (32) connections; a client from another
    /// network still gets its association. A finished handshake frees its network's place.
    /// Before: the stalled handshakes took all 64, and everyone was closed on accept until they timed out.
    /// </summary>
    [Fact]
    public async Task StalledHandshakesFromManyAddressesOfOneNetwork_CannotFillTheServer()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Limits:MaxConnections"] = "64",
            ["Limits:MaxConnectionsPerClient"] = "8",
            ["Limits:MaxHandshakesPerNetwork"] = "32",
            ["Metrics:Enabled"] = "true",
            ["Metrics:Listen"] = "127.0.0.1:0",
        });
        var metrics = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        var stalled = new List<SourcedSocket>();
        try
        {
            for (int host = 1; host <= 17; host++)
            {
                for (int i = 0; i < 8; i++)
                {
                    stalled.Add(await SourcedSocket.ConnectAsync(server.EndPoint, IPAddress.Parse($"127.0.7.{host}")));
                }
            }

            // Every connection taken or refused: 32 held, 104 closed on accept.
            while (!(await RawHttp.GetAsync(metrics, "/metrics")).Contains("socks5udprelay_connections_refused_total{reason=\"limit\"} 104\n", StringComparison.Ordinal))
            {
                await Task.Delay(10, TestTimeout.Token);
            }

            Assert.Equal(32, server.Endpoints.OpenSessions);
            Assert.Contains(server.Logs.Events, e => e.Message.Contains("Limits:MaxHandshakesPerNetwork=32 for 127.0.7.0/24", StringComparison.Ordinal));

            // Another network: served.
            await using (var other = await RawAssociation.OpenAsync(server.EndPoint))
            {
                Assert.Equal(1, server.Endpoints.OpenAssociations);
            }

            // The same network: closed on accept while the stalled ones hold its places …
            await using (var refused = await SourcedSocket.ConnectAsync(server.EndPoint, IPAddress.Parse("127.0.7.200")))
            {
                Assert.Empty(await refused.ReadAsync(2));
            }

            // … and served once one of them finishes its handshake.
            var finishing = stalled.First(s => !s.Socket.Poll(0, SelectMode.SelectRead)); // one the server holds (the refused ones read end of stream)
            await finishing.SendAsync(0x05, 0x01, 0x00);
            Assert.Equal(new byte[] { 0x05, 0x00 }, await finishing.ReadAsync(2));
            await finishing.SendAsync(0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0);
            Assert.Equal(0x00, (await finishing.ReadAsync(10))[1]);
            await using var admitted = await SourcedSocket.ConnectAsync(server.EndPoint, IPAddress.Parse("127.0.7.201"));
            await admitted.SendAsync(0x05, 0x01, 0x00);
            Assert.Equal(new byte[] { 0x05, 0x00 }, await admitted.ReadAsync(2));
        }
        finally
        {
            foreach (var socket in stalled)
            {
                await socket.DisposeAsync();
            }
        }
    }
}
