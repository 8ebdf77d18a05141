using Socks5UdpRelay.Gateway.Notices;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>
/// Where an <see cref="IUplink"/> answers the programs: replies and notices written back into the
/// device (<see cref="TunGateway"/>), or a test double. Every member may be called from any thread.
/// </summary>
public interface IDownlink
{
    /// <summary>The host's default TTL (IPv4) or hop limit (IPv6): a datagram sent below it carries a TTL its program chose.</summary>
    byte DefaultTtl(bool ipv6);

    /// <summary>Writes a reply from the raw source address (4 or 16 bytes) and port to the flow's program socket; false when the flow is closed or the reply cannot be written.</summary>
    bool WriteUdpReply(FlowId flow, ReadOnlySpan<byte> sourceAddress, ushort sourcePort, ReadOnlySpan<byte> payload);

    /// <summary>Writes the ICMP or ICMPv6 error a notice about the flow's datagrams stands for.</summary>
    NoticeMappingResult WriteNotice(FlowId flow, Notice notice);
}
