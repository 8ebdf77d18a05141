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

    [Theory]
    [InlineData("address-and-port-dependent")]
    [InlineData("address-dependent")]
    [InlineData("endpoint-independent")]
    public async Task StrangerSprayingTheOutboundPort_IsNeverRelayedAsADestinationsReply(string filtering)
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Filtering"] = filtering });
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
                Interlocked.Increment(ref sprayed);
            }
        });
        try
        {
            await Eventually.TrueAsync(() => Interlocked.Read(ref sprayed) >= 100); // the spray is under way before the first new destination
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
        // of them would reach the client before this echo does. Under a filtering that lets the
        // stranger in (its address is one the association sent to, or anyone), its datagrams come
        // with its own source in the header: never with a destination's.
        // A flood the filtering lets in can overrun the client's socket buffer, so the barrier is
        // sent again until its echo arrives (bounded).
        var strangerSource = stranger.LocalEndPoint!.ToString();
        int admitted = 0;
        bool barrierSeen = false;
        for (int attempt = 0; attempt < 40 && !barrierSeen; attempt++)
        {
            await association.SendToAsync(echo.EndPoint, "barrier"u8.ToArray());
            while (true)
            {
                using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
                (string Source, byte[] Payload) received;
                try
                {
                    received = await association.ReceiveAsync(quiet.Token);
                }
                catch (OperationCanceledException)
                {
                    break; // nothing for a while: the barrier was lost in the flood; send it again
                }

                if (received.Payload.AsSpan().SequenceEqual(Marker))
                {
                    Assert.Equal(strangerSource, received.Source);
                    admitted++;
                    continue;
                }

                Assert.Equal(echo.EndPoint.ToString(), received.Source);
                Assert.Equal("barrier"u8.ToArray(), received.Payload);
                barrierSeen = true;
                break;
            }
        }

        Assert.True(barrierSeen, "the echo of the barrier never came back");
        if (filtering == "address-and-port-dependent")
        {
            Assert.Equal(0, admitted);
        }
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}
