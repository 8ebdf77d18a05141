using Socks5UdpRelay.Gateway.Packets;

namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>
/// Where the gateway sends programs' datagrams: the SOCKS side (one mapping per flow), or a test
/// double. It answers through <see cref="TunGateway.WriteUdpReply(FlowId, System.Net.IPEndPoint, ReadOnlySpan{byte})"/>
/// and <see cref="TunGateway.WriteNotice"/>, from any thread.
/// </summary>
public interface IUplink
{
    /// <summary>
    /// A program sent a datagram. Called on the gateway's reader thread, one datagram at a time:
    /// do not block. The packet's spans are valid only during the call. <see cref="UdpPacket.Ttl"/>
    /// below <see cref="TunGateway.DefaultTtl"/> means the program chose its TTL (a trace): send the
    /// datagram on with it.
    /// </summary>
    void Send(FlowId flow, in UdpPacket packet);

    /// <summary>The flow ended (idle, or replaced when the table was full): release what it holds (its mapping).</summary>
    void FlowClosed(FlowId flow);
}
