using System.Buffers.Binary;

namespace Socks5UdpRelay.Gateway.Packets;

/// <summary>
/// Reads a packet from the device as a UDP datagram. The UDP checksum is not verified: the
/// packets come from the local host's own stack through the device, which computes it (a
/// TUN device without offloads gets complete checksums); lengths are checked, and an IPv6
/// datagram with a zero checksum is rejected (RFC 8200 §8.1).
/// </summary>
internal static class IpPacketParser
{
    public static PacketParseResult Parse(ReadOnlySpan<byte> packet, out UdpPacket udp)
    {
        udp = default;
        if (packet.IsEmpty)
        {
            return PacketParseResult.Malformed;
        }

        return (packet[0] >> 4) switch
        {
            4 => ParseIPv4(packet, out udp),
            6 => ParseIPv6(packet, out udp),
            _ => PacketParseResult.Malformed,
        };
    }

    private static PacketParseResult ParseIPv4(ReadOnlySpan<byte> packet, out UdpPacket udp)
    {
        udp = default;
        if (!Ipv4Header.TryRead(packet, out int headerLength, out int totalLength))
        {
            return PacketParseResult.Malformed;
        }

        packet = packet[..totalLength];
        if (packet[Ipv4Header.ProtocolOffset] != UdpHeader.Protocol)
        {
            return PacketParseResult.NotUdp;
        }

        if (Ipv4Header.IsFragment(packet))
        {
            return PacketParseResult.Fragment;
        }

        return ReadUdp(packet, headerLength, isIPv6: false, out udp);
    }

    private static PacketParseResult ParseIPv6(ReadOnlySpan<byte> packet, out UdpPacket udp)
    {
        udp = default;
        if (!Ipv6Header.TryRead(packet, out int totalLength))
        {
            return PacketParseResult.Malformed;
        }

        packet = packet[..totalLength];
        if (!Ipv6Header.TryFindUpperLayer(packet, out byte protocol, out int offset, out bool isFragment))
        {
            return PacketParseResult.Malformed;
        }

        if (isFragment)
        {
            return PacketParseResult.Fragment;
        }

        if (protocol != UdpHeader.Protocol)
        {
            return PacketParseResult.NotUdp;
        }

        var result = ReadUdp(packet, offset, isIPv6: true, out udp);
        if (result == PacketParseResult.Udp && BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + UdpHeader.ChecksumOffset)..]) == 0)
        {
            udp = default;
            return PacketParseResult.Malformed;
        }

        return result;
    }

    /// <summary>
    /// The UDP Length must be at least 8 and fit in the IP payload; a shorter length than the IP
    /// payload is allowed and the rest ignored, as Linux does (udp_rcv trims to it).
    /// </summary>
    private static PacketParseResult ReadUdp(ReadOnlySpan<byte> packet, int offset, bool isIPv6, out UdpPacket udp)
    {
        udp = default;
        if (packet.Length - offset < UdpHeader.Length)
        {
            return PacketParseResult.Malformed;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + UdpHeader.LengthOffset)..]);
        if (length < UdpHeader.Length || length > packet.Length - offset)
        {
            return PacketParseResult.Malformed;
        }

        udp = new UdpPacket(packet, isIPv6, offset);
        return PacketParseResult.Udp;
    }
}
