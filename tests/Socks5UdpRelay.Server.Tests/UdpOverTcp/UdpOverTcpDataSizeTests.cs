using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// How much DATA a frame may carry (README, "UDP over TCP", DATA): up to
/// <c>Relay:MaxDatagramSize</c> either way, except that a client that did not opt in never gets
/// more than 1500 bytes (hev-socks5 ends the session on more): such a reply is dropped and counted.
/// </summary>
public sealed class UdpOverTcpDataSizeTests
{
    [Fact]
    public async Task HevStyle_ReplyOver1500_IsDroppedAndCounted_1500Arrives_TheSessionGoesOn()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" });
        var metrics = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using (var client = await RawUdpOverTcp.OpenAsync(server.EndPoint))
        {
            var counters = server.SingleAssociation().Counters;

            await client.SendAsync(HevFrame.Datagram(echo.EndPoint, new byte[1501])); // from the client, larger is fine
            await Eventually.TrueAsync(() => counters.Dropped(DropReason.ReplyTooLarge) == 1);
            Assert.Equal(1, echo.Received);

            byte[] largest = Enumerable.Range(0, 1500).Select(i => (byte)i).ToArray();
            await client.SendAsync(HevFrame.Datagram(echo.EndPoint, largest));
            Assert.Equal(largest, (await client.ReadDatagramAsync()).Data); // the fixture checks every frame is ≤ 1500
            Assert.Contains("socks5udprelay_datagrams_dropped_total{reason=\"reply-too-large\"} 1\n", await RawHttp.GetAsync(metrics, "/metrics"));
        }

        await server.WaitForNoAssociationsAsync();
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("UDP association closed", StringComparison.Ordinal) && e.Message.EndsWith(", 1 datagrams dropped", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1501)]
    [InlineData(9000)]
    [InlineData(65_000)]
    public async Task OptedIn_LargerDatagrams_UpToMaxDatagramSize_ArriveWhole(int size)
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);
        byte[] payload = new byte[size];
        Random.Shared.NextBytes(payload);

        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, payload));

        var reply = await client.ReadDatagramAsync();
        Assert.Equal(payload, reply.Data);
    }

    [Fact]
    public async Task OptedIn_ReplyOverMaxDatagramSize_IsDroppedAndCounted()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:MaxDatagramSize"] = "2000" });
        using var target = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        target.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);

        await client.SendAsync(HevFrame.Datagram((IPEndPoint)target.LocalEndPoint!, new byte[2000]));
        byte[] buffer = new byte[4096];
        var first = await target.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), TestTimeout.Token);
        Assert.Equal(2000, first.ReceivedBytes);
        await target.SendToAsync(new byte[2001], SocketFlags.None, first.RemoteEndPoint, TestTimeout.Token);
        await target.SendToAsync(new byte[2000], SocketFlags.None, first.RemoteEndPoint, TestTimeout.Token);

        Assert.Equal(2000, (await client.ReadDatagramAsync()).Data.Length);
        var counters = server.SingleAssociation().Counters;
        await Eventually.TrueAsync(() => counters.Dropped(DropReason.ReplyTooLarge) == 1);
    }
}
