namespace Socks5UdpRelay.Gateway.Packets;

/// <summary>
/// Builds the IP and UDP headers of a datagram written into the device (a reply to a program).
/// Only the headers are written: the payload stays where it is and goes to the device beside them
/// (one writev), so a reply is never copied.
/// </summary>
internal static class UdpPacketWriter
{
    /// <summary>IPv6 header + UDP header; IPv4's are 28 bytes.</summary>
    public const int MaxHeaderLength = Ipv6Header.Length + UdpHeader.Length;

    /// <summary>The largest payload in one IPv4 packet: 65535 − 20 − 8.</summary>
    public const int MaxIPv4Payload = Ipv4Header.MaxPacketLength - Ipv4Header.MinLength - UdpHeader.Length;

    /// <summary>The largest payload in one IPv6 packet without a jumbogram: 65535 − 8.</summary>
    public const int MaxIPv6Payload = Ipv6Header.MaxPayloadLength - UdpHeader.Length;

    /// <summary>Writes an IPv4 header (no options) and a UDP header for <paramref name="payload"/>; returns 28.</summary>
    public static int WriteIPv4(
        Span<byte> headers,
        ReadOnlySpan<byte> source,
        ushort sourcePort,
        ReadOnlySpan<byte> destination,
        ushort destinationPort,
        ReadOnlySpan<byte> payload,
        byte ttl,
        ushort identification,
        bool dontFragment = false,
        byte typeOfService = 0)
    {
        int udpLength = UdpHeader.Length + payload.Length;
        Ipv4Header.Write(headers, typeOfService, Ipv4Header.MinLength + udpLength, identification, dontFragment, ttl, UdpHeader.Protocol, source, destination);
        ulong pseudo = Ipv4Header.PseudoHeaderSum(source, destination, UdpHeader.Protocol, udpLength);
        UdpHeader.Write(headers[Ipv4Header.MinLength..], sourcePort, destinationPort, payload, pseudo);
        return Ipv4Header.MinLength + UdpHeader.Length;
    }

    /// <summary>Writes an IPv6 header (no extension headers) and a UDP header for <paramref name="payload"/>; returns 48.</summary>
    public static int WriteIPv6(
        Span<byte> headers,
        ReadOnlySpan<byte> source,
        ushort sourcePort,
        ReadOnlySpan<byte> destination,
        ushort destinationPort,
        ReadOnlySpan<byte> payload,
        byte hopLimit,
        uint flowLabel = 0,
        byte trafficClass = 0)
    {
        int udpLength = UdpHeader.Length + payload.Length;
        Ipv6Header.Write(headers, trafficClass, flowLabel, udpLength, UdpHeader.Protocol, hopLimit, source, destination);
        ulong pseudo = Ipv6Header.PseudoHeaderSum(source, destination, udpLength, UdpHeader.Protocol);
        UdpHeader.Write(headers[Ipv6Header.Length..], sourcePort, destinationPort, payload, pseudo);
        return Ipv6Header.Length + UdpHeader.Length;
    }
}
