using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>
/// A new destination socket is bound to the association's outbound port before it is connected,
/// and in between the kernel may queue anyone's datagram to that port for it. What it holds when
/// it is connected is discarded (README, "NAT behaviour"), so a stranger racing a new
/// destination (say, a DNS query) can never answer in its name.
/// </summary>
public sealed class StrangerTests
{
    private static readonly byte[] Marker = "STRANGER"u8.ToArray();

    [Fact]
    public async Task StrangerSprayingTheOutboundPort_IsNeverRelayedAsADestinationsReply()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "hello"u8.ToArray());
        await association.ReceiveAsync();
        var outbound = new IPEndPoint(IPAddress.Loopback, Assert.Single(echo.Senders).Port);

        // Destinations that never answer: whatever comes back from them is the stranger's.
        var silent = Enumerable.Range(0, 200).Select(_ => Bound()).ToArray();
        using var stop = new CancellationTokenSource();
        using var stranger = Bound();
        long sprayed = 0;
        var spray = Task.Run(() =>
        {
            for (int i = 0; i < 5_000_000 && !stop.IsCancellationRequested; i++)
            {
                stranger.SendTo(Marker, outbound);
                sprayed++;
            }
        });
        try
        {
            foreach (var destination in silent)
            {
                await association.SendToAsync((IPEndPoint)destination.LocalEndPoint!, "x"u8.ToArray());
            }

            await Eventually.TrueAsync(() => silent.All(s => s.Available > 0)); // every destination socket was opened and used
        }
        finally
        {
            await stop.CancelAsync();
            await spray.Within();
            foreach (var socket in silent)
            {
                socket.Dispose();
            }
        }

        // The relay handles an association's sockets in order on one loop: a reply relayed for any
        // of them would reach the client before this echo does.
        await association.SendToAsync(echo.EndPoint, "barrier"u8.ToArray());
        var (source, payload) = await association.ReceiveAsync();
        Assert.Equal(echo.EndPoint.ToString(), source);
        Assert.Equal("barrier"u8.ToArray(), payload);
        Assert.True(sprayed > 1000, $"the stranger sent only {sprayed} datagrams");
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}
