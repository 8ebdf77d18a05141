using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Tests.Relay;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// Another program on the client's host sprays SOCKS datagrams at every port of
/// <c>Relay:UdpPortRange</c>, before and after the client's first datagram. An association that
/// named its UDP port (the client library's) takes none of them: nothing reaches the sprayer's
/// destination, nothing comes back to the sprayer, the client's datagrams still flow. An
/// association asked for 0.0.0.0:0 belongs to whoever sends first, which is why
/// <c>Relay:RequireClientPort</c> exists.
/// </summary>
public sealed class HijackTests
{
    private const int RangeSize = 16;

    [Fact]
    public async Task ClientLibrarysAssociation_SprayedOnEveryRelayPort_IsNeitherInjectedNorTakenOver()
    {
        var (first, last) = FreePorts.UdpRange(RangeSize);
        await using var server = await RelayServer.StartAsync(Range(first, last));
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var sink = UdpResponder.Echo(IPAddress.Loopback); // where the sprayer wants its datagrams relayed
        await using var association = await Socks5UdpAssociation.OpenAsync(new Socks5ProxyOptions { Host = "127.0.0.1", Port = server.EndPoint.Port }, TestTimeout.Token);
        Assert.InRange(association.RelayEndPoint.Port, first, last);
        using var sprayer = Sprayer();
        var counters = server.SingleAssociation().Counters;

        // Before the client's first datagram: the moment a 0.0.0.0:0 association is up for grabs.
        await SprayAsync(sprayer, first, last, sink.EndPoint);
        await Eventually.TrueAsync(() => counters.Dropped(DropReason.ForeignSource) == SprayedPerPort);
        Assert.Equal("mine"u8.ToArray(), await EchoAsync(association, echo, "mine"u8.ToArray()));

        await SprayAsync(sprayer, first, last, sink.EndPoint);
        await Eventually.TrueAsync(() => counters.Dropped(DropReason.ForeignSource) == 2 * SprayedPerPort);
        Assert.Equal("still mine"u8.ToArray(), await EchoAsync(association, echo, "still mine"u8.ToArray()));

        Assert.Empty(sink.Senders);
        Assert.Equal(0, sprayer.Available);
        Assert.Equal(2, counters.DatagramsFromClient);
    }

    /// <summary>
    /// The same spray against an association asked for 0.0.0.0:0 (as RFC 1928 allows, and as the
    /// client library asked before it named its port): the sprayer's datagram gets there first, is
    /// relayed, and the association then takes datagrams from the sprayer's port only. With
    /// <c>Relay:RequireClientPort=true</c> such a request is refused instead.
    /// </summary>
    [Fact]
    public async Task ZeroAddressRequest_TheFirstSenderTakesTheAssociation_UnlessRequireClientPortRefusesIt()
    {
        var (first, last) = FreePorts.UdpRange(RangeSize);
        await using (var server = await RelayServer.StartAsync(Range(first, last)))
        {
            await using var echo = UdpResponder.Echo(IPAddress.Loopback);
            await using var sink = UdpResponder.Echo(IPAddress.Loopback);
            await using var association = await RawAssociation.OpenAsync(server.EndPoint);
            using var sprayer = Sprayer();

            await SprayAsync(sprayer, first, last, sink.EndPoint);
            await Eventually.TrueAsync(() => sink.Senders.Count > 0);

            await association.SendToAsync(echo.EndPoint, "mine"u8.ToArray());
            await Eventually.TrueAsync(() => server.SingleAssociation().Counters.Dropped(DropReason.ForeignSource) == 1);
            Assert.Empty(echo.Senders);
        }

        var settings = Range(first, last);
        settings["Relay:RequireClientPort"] = "true";
        await using var strict = await RelayServer.StartAsync(settings);
        await using var raw = await RawSocks.ConnectAsync(strict.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        await raw.ReadAsync(2);
        await raw.SendAsync(0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0);
        Assert.Equal(0x02, (await raw.ReadAsync(10))[1]);
    }

    /// <summary>Datagrams the sprayer sends to each port of the range, each time.</summary>
    private const int SprayedPerPort = 3;

    private static Dictionary<string, string?> Range(int first, int last) => new()
    {
        ["Relay:UdpPortRange"] = $"{first}-{last}",
        ["Limits:MaxAssociationsPerClient"] = $"{last - first + 1}",
    };

    /// <summary>Another program on the client's host: the same address, a port of its own.</summary>
    private static Socket Sprayer()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static async Task SprayAsync(Socket sprayer, int first, int last, IPEndPoint destination)
    {
        byte[] datagram = RawSocks.Datagram(destination, "injected"u8);
        for (int round = 0; round < SprayedPerPort; round++)
        {
            for (int port = first; port <= last; port++)
            {
                await sprayer.SendToAsync(datagram, SocketFlags.None, new IPEndPoint(IPAddress.Loopback, port));
            }
        }
    }

    private static async Task<byte[]> EchoAsync(Socks5UdpAssociation association, UdpResponder echo, byte[] payload)
    {
        await association.SendAsync(echo.EndPoint, payload, TestTimeout.Token);
        var buffer = new byte[64];
        var received = await association.ReceiveAsync(buffer, TestTimeout.Token);
        return buffer[..received.Length];
    }
}
