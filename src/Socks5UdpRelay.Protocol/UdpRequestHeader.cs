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
    /// or an empty name. RSV is ignored on read (RFC 1928 calls it reserved, and some clients put
    /// junk there). <paramref name="headerLength"/> is where DATA starts.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out byte fragment, out SocksAddress destination, out int headerLength)
    {
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

        fragment = datagram[2];
        headerLength = FixedLength + addressLength;
        return true;
    }

    /// <summary>Writes RSV RSV FRAG=0 and the address; returns the header's length.</summary>
    public static int Write(Span<byte> destination, in SocksAddress address)
    {
        destination[0] = 0;
        destination[1] = 0;
        destination[2] = 0;
        return FixedLength + SocksAddressCodec.Write(destination[FixedLength..], address);
    }

    public static int Write(Span<byte> destination, System.Net.IPAddress address, ushort port)
    {
        destination[0] = 0;
        destination[1] = 0;
        destination[2] = 0;
        return FixedLength + SocksAddressCodec.Write(destination[FixedLength..], address, port);
    }

    public static int GetLength(in SocksAddress address) => FixedLength + address.EncodedLength;
}
