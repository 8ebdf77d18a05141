using System.Buffers.Binary;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// The header in front of every relayed datagram, RFC 1928 §7 (https://www.rfc-editor.org/rfc/rfc1928#section-7):
/// <code>
/// +----+------+------+----------+----------+----------+
/// |RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
/// +----+------+------+----------+----------+----------+
/// | 2  |  1   |  1   | Variable |    2     | Variable |
/// +----+------+------+----------+----------+----------+
/// </code>
/// A datagram is whole or worthless, so parsing answers yes or no: there is no "more bytes".
/// RFC 1928 reserves RSV (X'0000'); this relay reads and writes it as the datagram's mapping
/// number, 16 bits big-endian, 0 being the association's first mapping, the only one a client
/// that never sends <c>MAP</c> sees (the README, "Client commands"). A standard client writes 0.
/// </summary>
public static class UdpRequestHeader
{
    /// <summary>RSV RSV FRAG.</summary>
    public const int FixedLength = 3;

    /// <summary>RSV + FRAG + the longest address: 262 bytes.</summary>
    public const int MaxLength = FixedLength + SocksAddressCodec.MaxEncodedLength;

    /// <summary>The header for an IPv4 source: 10 bytes.</summary>
    public const int IPv4Length = FixedLength + 1 + 4 + 2;

    /// <summary>The header for an IPv6 source: 22 bytes.</summary>
    public const int IPv6Length = FixedLength + 1 + 16 + 2;

    /// <summary>
    /// Parses the header. False for a datagram too short for its header or with an unknown ATYP
    /// or an empty name. RSV is not looked at: a reader that has mappings reads it with
    /// <see cref="ReadMapping"/> or the overload that returns it. <paramref name="headerLength"/>
    /// is where DATA starts.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out byte fragment, out SocksAddress destination, out int headerLength)
        => TryParse(datagram, out _, out fragment, out destination, out headerLength);

    /// <summary>Parses the header and its RSV as the mapping number.</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out ushort mapping, out byte fragment, out SocksAddress destination, out int headerLength)
    {
        mapping = 0;
        fragment = 0;
        destination = default;
        headerLength = 0;
        if (datagram.Length < FixedLength)
        {
            return false;
        }

        if (SocksAddressCodec.TryRead(datagram[FixedLength..], out destination, out int addressLength) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        mapping = ReadMapping(datagram);
        fragment = datagram[2];
        headerLength = FixedLength + addressLength;
        return true;
    }

    /// <summary>Writes RSV (the mapping number) FRAG=0 and the address; returns the header's length.</summary>
    public static int Write(Span<byte> destination, in SocksAddress address, ushort mapping = 0)
    {
        WriteMapping(destination, mapping);
        destination[2] = 0;
        return FixedLength + SocksAddressCodec.Write(destination[FixedLength..], address);
    }

    public static int Write(Span<byte> destination, System.Net.IPAddress address, ushort port, ushort mapping = 0)
    {
        WriteMapping(destination, mapping);
        destination[2] = 0;
        return FixedLength + SocksAddressCodec.Write(destination[FixedLength..], address, port);
    }

    /// <summary>RSV as the mapping number. The datagram must hold at least <see cref="FixedLength"/> bytes.</summary>
    public static ushort ReadMapping(ReadOnlySpan<byte> datagram) => BinaryPrimitives.ReadUInt16BigEndian(datagram);

    /// <summary>Sets RSV of a header already written (a reply header built once per destination, say).</summary>
    public static void WriteMapping(Span<byte> header, ushort mapping) => BinaryPrimitives.WriteUInt16BigEndian(header, mapping);

    public static int GetLength(in SocksAddress address) => FixedLength + address.EncodedLength;
}
