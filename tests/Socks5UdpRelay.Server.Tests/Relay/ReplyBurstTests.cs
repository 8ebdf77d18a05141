using Socks5UdpRelay.Server.Metrics;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>
/// Replies that reach the relay faster than it reads them are read and sent on in batches: every
/// one must still reach the client, in order, behind a header naming its source, and one that is
/// too large is dropped and counted without taking its neighbours with it.
/// </summary>
public sealed class ReplyBurstTests
{
    [Theory]
    [MemberData(nameof(Loopbacks.Families), MemberType = typeof(Loopbacks))]
    public async Task BurstOfReplies_AllArriveInOrder_AndAnOversizedOneIsDroppedAlone(string loopback)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:Listen:0"] = new IPEndPoint(ip, 0).ToString(),
            ["Relay:MaxDatagramSize"] = "1000",
        });
        using var target = new Socket(ip.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        target.Bind(new IPEndPoint(ip, 0));
        var targetEndPoint = (IPEndPoint)target.LocalEndPoint!;
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);

        // One datagram out tells the target where the relay sends from; the burst goes back there.
        await association.SendToAsync(targetEndPoint, "hello"u8.ToArray());
        byte[] buffer = new byte[2048];
        var first = await target.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(ip.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), TestTimeout.Token);
        var relayOut = (IPEndPoint)first.RemoteEndPoint;

        const int Count = 150;
        const int Oversized = 70;
        for (int i = 0; i < Count; i++)
        {
            byte[] payload = new byte[i == Oversized ? 1001 : 8 + (i % 50)];
            BitConverter.TryWriteBytes(payload, i);
            target.SendTo(payload, relayOut);
        }

        string expectedSource = NoticeFormat.FormatEndpoint(targetEndPoint.Address, targetEndPoint.Port);
        for (int i = 0; i < Count; i++)
        {
            if (i == Oversized)
            {
                continue;
            }

            var (source, payload) = await association.ReceiveAsync();
            Assert.Equal(expectedSource, source);
            Assert.Equal(i, BitConverter.ToInt32(payload));
            Assert.Equal(8 + (i % 50), payload.Length);
        }

        var counters = server.SingleAssociation().Counters;
        // The counters are added once the batch's send returns, which may be after the client read the last reply.
        await Eventually.TrueAsync(() => counters.Dropped(DropReason.ReplyTooLarge) == 1 && counters.DatagramsToClient == Count - 1);
        Assert.Equal(0, counters.Dropped(DropReason.SendFailed));
    }
}
