namespace Socks5UdpRelay.Gateway.Packets;

/// <summary>What a packet read from the device turned out to be; everything but <see cref="Udp"/> is dropped and counted.</summary>
internal enum PacketParseResult
{
    Udp,

    /// <summary>A well-formed IP packet of another protocol (ICMP, TCP, IPv6 neighbour discovery …).</summary>
    NotUdp,

    /// <summary>A UDP datagram in fragments (RFC 791 MF/offset, RFC 8200 Fragment header): not reassembled.</summary>
    Fragment,

    /// <summary>Not a whole, well-formed IPv4 or IPv6 packet, or a UDP header that does not fit it.</summary>
    Malformed,
}
