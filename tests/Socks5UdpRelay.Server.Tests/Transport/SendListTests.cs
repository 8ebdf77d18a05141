using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Transport.Epoll;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Transport;

/// <summary>The per-loop send list once its loop's thread has ended and freed it (work posted then runs inline).</summary>
public sealed class SendListTests
{
    [Fact]
    public unsafe void Disposed_CountsWhatItIsGivenAsFailed_AndSendsNothing()
    {
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Connect(receiver.LocalEndPoint!);
        var list = new SendList();
        list.Dispose();

        byte[] payload = "after the loop ended"u8.ToArray();
        list.Begin(default);
        fixed (byte* data = payload)
        {
            Assert.True(list.Add(null, 0, data, payload.Length));
            Assert.True(list.Add(null, 0, data, payload.Length));
        }

        int maxSegment = 0;
        var outcome = list.Send(sender.SafeHandle, ref maxSegment, errors: null);

        Assert.Equal((0, 2), (outcome.Sent, outcome.Failed));
        Assert.Equal(0, receiver.Available);
        list.Begin(default);
        Assert.Equal(0, list.Count);
    }
}
