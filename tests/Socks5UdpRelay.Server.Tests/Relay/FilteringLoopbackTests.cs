using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>
/// The three filtering modes against the real server on loopback (README, "NAT behaviour"): a
/// second sender on another port of the destination's address, and one on another address
/// (127.0.0.2), admitted or dropped exactly per the table; hairpinning between two associations.
/// </summary>
public sealed class FilteringLoopbackTests
{
    public static TheoryData<string, bool, bool> Table => new()
    {
        // mode, another port of an address sent to, another address
        { "address-and-port-dependent", false, false },
        { "address-dependent", true, false },
        { "endpoint-independent", true, true },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task SecondSenders_AreAdmittedExactlyPerTheTable(string mode, bool otherPort, bool otherAddress)
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Filtering"] = mode });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "hi"u8.ToArray());
        await association.ReceiveAsync();
        var outbound = new IPEndPoint(IPAddress.Loopback, Assert.Single(echo.Senders).Port);

        using var samePort = Bound(IPAddress.Loopback);
        using var otherHost = Bound(IPAddress.Parse("127.0.0.2"));
        samePort.SendTo("from another port"u8, outbound);
        otherHost.SendTo("from another address"u8, outbound);

        // A barrier through the echo: whatever was admitted is relayed before its reply.
        await association.SendToAsync(echo.EndPoint, "barrier"u8.ToArray());
        var seen = new List<(string Source, string Payload)>();
        while (true)
        {
            var (source, payload) = await association.ReceiveAsync();
            string text = System.Text.Encoding.ASCII.GetString(payload);
            if (text == "barrier")
            {
                break;
            }

            seen.Add((source, text));
        }

        Assert.Equal(otherPort, seen.Contains((samePort.LocalEndPoint!.ToString()!, "from another port")));
        Assert.Equal(otherAddress, seen.Contains((otherHost.LocalEndPoint!.ToString()!, "from another address")));
        Assert.Equal((otherPort ? 1 : 0) + (otherAddress ? 1 : 0), seen.Count);
    }

    [Theory]
    [InlineData("endpoint-independent")]
    [InlineData("address-dependent")]
    public async Task TwoAssociations_HairpinThroughTheRelay_EachSeesTheOthersOutboundPort(string mode)
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Filtering"] = mode });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var a = await RawAssociation.OpenAsync(server.EndPoint);
        await using var b = await RawAssociation.OpenAsync(server.EndPoint);

        // Each learns its own mapped address the way STUN would tell it: from what a server saw.
        await a.SendToAsync(echo.EndPoint, "a"u8.ToArray());
        await a.ReceiveAsync();
        await b.SendToAsync(echo.EndPoint, "b"u8.ToArray());
        await b.ReceiveAsync();
        var mappedA = new IPEndPoint(IPAddress.Loopback, echo.Senders[0].Port);
        var mappedB = new IPEndPoint(IPAddress.Loopback, echo.Senders[1].Port);

        // Hole punching: each sends to the other's mapped address, then the other answers.
        await b.SendToAsync(mappedA, "punch from b"u8.ToArray());
        await a.SendToAsync(mappedB, "hello from a"u8.ToArray());
        var (sourceSeenByB, payloadB) = await ReceiveSkippingAsync(b, "punch");
        Assert.Equal(mappedA.ToString(), sourceSeenByB);
        Assert.Equal("hello from a", System.Text.Encoding.ASCII.GetString(payloadB));

        await b.SendToAsync(mappedA, "hello from b"u8.ToArray());
        var (sourceSeenByA, payloadA) = await ReceiveSkippingAsync(a, "punch");
        Assert.Equal(mappedB.ToString(), sourceSeenByA);
        Assert.StartsWith("hello from b", System.Text.Encoding.ASCII.GetString(payloadA));
    }

    [Fact]
    public async Task UnderPortDependentFiltering_AHolePunchFailsCleanly_UntilBothHaveSent()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Filtering"] = "address-and-port-dependent" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var a = await RawAssociation.OpenAsync(server.EndPoint);
        await using var b = await RawAssociation.OpenAsync(server.EndPoint);
        await a.SendToAsync(echo.EndPoint, "a"u8.ToArray());
        await a.ReceiveAsync();
        var mappedA = new IPEndPoint(IPAddress.Loopback, echo.Senders[0].Port);

        await b.SendToAsync(mappedA, "unsolicited"u8.ToArray()); // a never sent to b's port: filtered
        await a.SendToAsync(echo.EndPoint, "barrier"u8.ToArray());
        Assert.Equal("barrier", System.Text.Encoding.ASCII.GetString((await a.ReceiveAsync()).Payload));
    }

    private static async Task<(string Source, byte[] Payload)> ReceiveSkippingAsync(RawAssociation association, string skipPrefix)
    {
        while (true)
        {
            var received = await association.ReceiveAsync();
            if (!System.Text.Encoding.ASCII.GetString(received.Payload).StartsWith(skipPrefix, StringComparison.Ordinal))
            {
                return received;
            }
        }
    }

    private static Socket Bound(IPAddress address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    }
}
