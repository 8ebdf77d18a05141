using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Gateway.Packets;

/// <summary>
/// A UDP datagram as a program sent it into the gateway's device: a view over the IP packet, valid
/// only as long as the buffer it was read into (the call it is passed to).
/// </summary>
public readonly ref struct UdpPacket
{
    private readonly int _udpOffset;

    internal UdpPacket(ReadOnlySpan<byte> packet, bool isIPv6, int udpOffset)
    {
        Packet = packet;
        IsIPv6 = isIPv6;
        _udpOffset = udpOffset;
    }

    /// <summary>The whole IP packet, headers included, exactly its length (what an ICMP error quotes).</summary>
    public ReadOnlySpan<byte> Packet { get; }

    /// <summary>True for IPv6, false for IPv4.</summary>
    public bool IsIPv6 { get; }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</summary>
    public AddressFamily Family => IsIPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    /// <summary>The program's address: 4 or 16 bytes.</summary>
    public ReadOnlySpan<byte> SourceAddress => IsIPv6
        ? Packet.Slice(Ipv6Header.SourceOffset, Ipv6Header.AddressLength)
        : Packet.Slice(Ipv4Header.SourceOffset, Ipv4Header.AddressLength);

    /// <summary>The destination's address: 4 or 16 bytes.</summary>
    public ReadOnlySpan<byte> DestinationAddress => IsIPv6
        ? Packet.Slice(Ipv6Header.DestinationOffset, Ipv6Header.AddressLength)
        : Packet.Slice(Ipv4Header.DestinationOffset, Ipv4Header.AddressLength);

    /// <summary>The program socket's port.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(Packet[_udpOffset..]);

    /// <summary>The destination port.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(Packet[(_udpOffset + 2)..]);

    /// <summary>
    /// The IPv4 TTL or IPv6 hop limit the packet left the program's host with. A value below the
    /// host's default means the program chose it (traceroute, tracepath): send the datagram on with it.
    /// </summary>
    public byte Ttl => IsIPv6 ? Packet[Ipv6Header.HopLimitOffset] : Packet[Ipv4Header.TtlOffset];

    /// <summary>The UDP payload.</summary>
    public ReadOnlySpan<byte> Payload =>
        Packet.Slice(_udpOffset + UdpHeader.Length, BinaryPrimitives.ReadUInt16BigEndian(Packet[(_udpOffset + UdpHeader.LengthOffset)..]) - UdpHeader.Length);

    /// <summary>The UDP header and payload.</summary>
    public ReadOnlySpan<byte> Datagram =>
        Packet.Slice(_udpOffset, BinaryPrimitives.ReadUInt16BigEndian(Packet[(_udpOffset + UdpHeader.LengthOffset)..]));

    /// <summary>The destination as an endpoint (allocates: for set-up and logging, not per datagram).</summary>
    public IPEndPoint GetDestination() => new(new IPAddress(DestinationAddress), DestinationPort);

    /// <summary>The program socket as an endpoint (allocates).</summary>
    public IPEndPoint GetSource() => new(new IPAddress(SourceAddress), SourcePort);
}
