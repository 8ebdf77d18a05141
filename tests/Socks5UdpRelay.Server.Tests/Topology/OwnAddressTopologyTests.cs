using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// A server other hosts can reach (listening on the relay's client-facing address) never relays
/// to the host's own addresses, to multicast or broadcast, or to its own endpoints, for UDP and
/// for CONNECT (README, "Security"); ordinary destinations still work.
/// </summary>
public sealed class OwnAddressTopologyTests(RelayTopologyFixture fixture) : IClassFixture<RelayTopologyFixture>
{
    public static TheoryData<string> Refused => new()
    {
        "relay", // the listener's own address
        "relay-egress", // another interface of the host
        "relay6",
        "multicast4",
        "multicast6",
        "broadcast",
        "subnet-broadcast",
    };

    [RootTheory]
    [MemberData(nameof(Refused))]
    public async Task Udp_ToTheHostItself_MulticastOrBroadcast_IsDeniedByPolicy(string which)
    {
        var destination = Destination(which);
        await using var association = await fixture.OpenAssociationAsync();
        await association.SendAsync(destination, "x"u8.ToArray()).AsTask().WaitAsync(TestTimeout.Default);
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        var notice = await association.Notices.ReadAsync(timeout.Token);
        Assert.Equal($"UDP-DENIED dst={NoticeFormat.FormatEndpoint(destination.Address, destination.Port)} reason=policy", notice.Line);

        // Ordinary destinations are untouched.
        var echo = new IPEndPoint(fixture.Topology.Target.V4, RelayTopologyFixture.EchoPort);
        await association.SendAsync(echo, "alive"u8.ToArray());
        var buffer = new byte[64];
        var reply = await association.ReceiveAsync(buffer).AsTask().WaitAsync(TestTimeout.Default);
        Assert.Equal("alive", System.Text.Encoding.ASCII.GetString(buffer, 0, reply.Length));
    }

    [RootTheory]
    [InlineData("relay-egress", 22)]
    [InlineData("own-listener", 0)]
    public async Task Connect_ToTheHostItselfOrTheServersOwnListener_IsNotAllowed(string which, int port)
    {
        var topology = fixture.Topology;
        var destination = which == "own-listener" ? new IPEndPoint(topology.Relay.V4, fixture.SocksPort) : new IPEndPoint(topology.RelayEgress.V4, port);
        using var socket = topology.CreateSocket(topology.ClientNamespace, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(topology.Relay.V4, fixture.SocksPort)).WaitAsync(TestTimeout.Default);
        await socket.SendAsync(new byte[] { 5, 1, 0 });
        var buffer = new byte[32];
        Assert.Equal(2, await ReceiveExactlyAsync(socket, buffer, 2));
        byte[] request = [5, 1, 0, 1, .. destination.Address.GetAddressBytes(), (byte)(destination.Port >> 8), (byte)destination.Port];
        await socket.SendAsync(request);
        Assert.Equal(10, await ReceiveExactlyAsync(socket, buffer, 10));
        Assert.Equal((byte)ReplyCode.ConnectionNotAllowed, buffer[1]);
    }

    private IPEndPoint Destination(string which)
    {
        var t = fixture.Topology;
        return which switch
        {
            "relay" => new IPEndPoint(t.Relay.V4, 5000),
            "relay-egress" => new IPEndPoint(t.RelayEgress.V4, 53),
            "relay6" => new IPEndPoint(t.RelayEgress.V6, 53),
            "multicast4" => new IPEndPoint(IPAddress.Parse("224.0.0.251"), 5353),
            "multicast6" => new IPEndPoint(IPAddress.Parse("ff02::fb"), 5353),
            "broadcast" => new IPEndPoint(IPAddress.Broadcast, 67),
            "subnet-broadcast" => new IPEndPoint(IPAddress.Parse("10.201.2.255"), 137),
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };
    }

    private static async Task<int> ReceiveExactlyAsync(Socket socket, byte[] buffer, int count)
    {
        int have = 0;
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        while (have < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(have, count - have), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                break;
            }

            have += n;
        }

        return have;
    }
}
