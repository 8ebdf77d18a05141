using System.Buffers.Binary;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// The SOCKS UDP header in front of a datagram relayed to the client (RFC 1928 §7: RSV RSV FRAG
/// ATYP DST.ADDR DST.PORT), naming its source: written from a key without allocating.
/// </summary>
internal static class ReplyHeader
{
    public static int Length(in DestinationKey source) => source.IsIPv4 ? UdpRequestHeader.IPv4Length : UdpRequestHeader.IPv6Length;

    /// <summary>Writes the header for <paramref name="source"/> with RSV = <paramref name="mapping"/>; returns its length.</summary>
    public static int Write(Span<byte> header, in DestinationKey source, ushort mapping)
    {
        UdpRequestHeader.WriteMapping(header, mapping);
        header[2] = 0; // FRAG
        if (source.IsIPv4)
        {
            header[3] = (byte)AddressType.IPv4;
            BinaryPrimitives.WriteUInt32BigEndian(header[4..], source.IPv4Bits);
            BinaryPrimitives.WriteUInt16BigEndian(header[8..], source.Port);
            return UdpRequestHeader.IPv4Length;
        }

        header[3] = (byte)AddressType.IPv6;
        BinaryPrimitives.WriteUInt128BigEndian(header[4..], source.Address);
        BinaryPrimitives.WriteUInt16BigEndian(header[20..], source.Port);
        return UdpRequestHeader.IPv6Length;
    }
}
