using Socks5UdpRelay.Server.Metrics;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>The README's "Association rules": who may send, the shared outbound port, one socket per resolved destination.</summary>
public sealed class AssociationRulesTests
{
    public static TheoryData<string> Families => Loopbacks.Families;

    [Theory]
    [MemberData(nameof(Families))]
    public async Task FirstDatagram_LocksPort_OtherPortsOfSameHostDropped(string loopback)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(ip, 0).ToString());
        await using var echo = UdpResponder.Echo(ip);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "first"u8.ToArray());
        Assert.Equal("first"u8.ToArray(), (await association.ReceiveAsync()).Payload);

        using var intruder = new Socket(ip.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        intruder.Bind(new IPEndPoint(ip, 0));
        await intruder.SendToAsync(RawSocks.Datagram(echo.EndPoint, "intruder"u8), SocketFlags.None, association.Relay);

        // The intruder's datagram went first; the echo of the next one proves it was dropped, not queued.
        await association.SendToAsync(echo.EndPoint, "second"u8.ToArray());
        Assert.Equal("second"u8.ToArray(), (await association.ReceiveAsync()).Payload);
        var counters = server.SingleAssociation().Counters;
        Assert.Equal(1, counters.Dropped(DropReason.ForeignSource));
        Assert.Equal(2, counters.DatagramsFromClient);
    }

    [Fact]
    public async Task RequestNamingPeerAddressAndPort_FixesThatPort()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)udp.LocalEndPoint!).Port;
        byte[] request = [0x05, 0x03, 0x00, 0x01, 127, 0, 0, 1, (byte)(port >> 8), (byte)port];
        await using var association = await RawAssociation.OpenAsync(server.EndPoint, request, udp);

        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        other.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await other.SendToAsync(RawSocks.Datagram(echo.EndPoint, "other"u8), SocketFlags.None, association.Relay);
        await association.SendToAsync(echo.EndPoint, "named"u8.ToArray());
        Assert.Equal("named"u8.ToArray(), (await association.ReceiveAsync()).Payload);
        Assert.Equal(1, server.SingleAssociation().Counters.Dropped(DropReason.ForeignSource));
    }

    [Fact]
    public async Task RequestNamingAnotherAddress_IsIgnoredAndLogged()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        byte[] request = [0x05, 0x03, 0x00, 0x01, 192, 168, 1, 20, 0x30, 0x39]; // a client behind NAT names its private address
        await using var association = await RawAssociation.OpenAsync(server.EndPoint, request);
        await association.SendToAsync(echo.EndPoint, "nat"u8.ToArray());
        Assert.Equal("nat"u8.ToArray(), (await association.ReceiveAsync()).Payload);
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("UDP ASSOCIATE named 192.168.1.20:12345, not the TCP peer's address; ignored", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task AllDestinationsOfAnAssociation_SeeOneSourcePort_AssociationsNeverShareIt(string loopback)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(ip, 0).ToString());
        await using var echoA = UdpResponder.Echo(ip);
        await using var echoB = UdpResponder.Echo(ip);
        await using var first = await RawAssociation.OpenAsync(server.EndPoint);
        await using var second = await RawAssociation.OpenAsync(server.EndPoint);
        foreach (var association in new[] { first, second })
        {
            foreach (var echo in new[] { echoA, echoB })
            {
                byte[] payload = System.Text.Encoding.ASCII.GetBytes($"{association.Udp.LocalEndPoint}->{echo.Port}");
                await association.SendToAsync(echo.EndPoint, payload);
                var (source, reply) = await association.ReceiveAsync();
                Assert.Equal(payload, reply); // replies never cross associations
                Assert.Equal(echo.EndPoint.ToString(), source);
            }
        }

        var portsSeenByA = echoA.Senders.Select(s => s.Port).ToArray();
        var portsSeenByB = echoB.Senders.Select(s => s.Port).ToArray();
        Assert.Equal(2, portsSeenByA.Length);
        Assert.NotEqual(portsSeenByA[0], portsSeenByA[1]);
        Assert.Equal(portsSeenByA, portsSeenByB);
    }

    [Fact]
    public async Task LocalhostAndLoopbackAddress_ShareOneDestinationSocket()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendAsync(RawSocks.Datagram("localhost", echo.Port, "by-name"u8));
        var byName = await association.ReceiveAsync();
        await association.SendToAsync(echo.EndPoint, "by-address"u8.ToArray());
        var byAddress = await association.ReceiveAsync();

        Assert.Equal(echo.EndPoint.ToString(), byName.Source); // the reply names the resolved IP
        Assert.Equal(echo.EndPoint.ToString(), byAddress.Source);
        Assert.Single(echo.Senders);
        Assert.Equal(1, server.SingleAssociation().DestinationCount);
    }

    [Fact]
    public async Task DestinationCap_EvictsLeastRecentlyUsed_NeverRefuses()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:MaxDestinationsPerAssociation"] = "2" });
        await using var echoA = UdpResponder.Echo(IPAddress.Loopback);
        await using var echoB = UdpResponder.Echo(IPAddress.Loopback);
        await using var echoC = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        foreach (var echo in new[] { echoA, echoB, echoC, echoA })
        {
            await association.SendToAsync(echo.EndPoint, "x"u8.ToArray());
            Assert.Equal(echo.EndPoint.ToString(), (await association.ReceiveAsync()).Source);
        }

        var state = server.SingleAssociation();
        Assert.Equal(2, state.DestinationCount);
        Assert.Equal(4, state.Counters.DestinationsOpened); // A, B, C, then A again after its eviction
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("closed (evicted: destination cap)", StringComparison.Ordinal));
    }
}
