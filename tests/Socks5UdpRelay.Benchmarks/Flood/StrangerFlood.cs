using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Benchmarks.Load;

namespace Socks5UdpRelay.Benchmarks.Flood;

/// <summary>
/// <c>--flood stranger</c>: a socket on another loopback address (127.0.0.2 by default, so
/// that address-dependent filtering sees a stranger, not the echo target's address) sprays the
/// measured associations' outbound ports, learned with <see cref="OutboundPorts"/>, while they
/// run (issue #16: the cost of endpoint-independent filtering).
/// </summary>
internal static class StrangerFlood
{
    public static PacedSender Start(IReadOnlyList<Flow> flows, IPAddress from, int payloadLength, double rate)
    {
        var targets = OutboundPorts.Learn(flows);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SendBufferSize = 4 << 20;
            socket.Bind(new IPEndPoint(from, 0));
            return new PacedSender(socket, new byte[payloadLength], targets, rate, "flood-stranger");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
