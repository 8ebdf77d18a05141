using System.Buffers.Binary;

namespace Socks5UdpRelay.Gateway.Packets;

/// <summary>
/// The UDP header (RFC 768):
/// <code>
///  0      7 8     15 16    23 24    31
/// +--------+--------+--------+--------+
/// |     Source      |   Destination   |
/// |      Port       |      Port       |
/// +--------+--------+--------+--------+
/// |                 |                 |
/// |     Length      |    Checksum     |
/// +--------+--------+--------+--------+
/// </code>
/// The checksum covers a pseudo-header of the IP layer, the UDP header and the data. A computed
/// checksum of 0 is sent as 0xFFFF; a received 0 means "no checksum" over IPv4 and is invalid over
/// IPv6 (RFC 8200 §8.1).
/// </summary>
internal static class UdpHeader
{
    public const int Length = 8;
    public const byte Protocol = 17;
    public const int LengthOffset = 4;
    public const int ChecksumOffset = 6;

    /// <summary>Writes the header for <paramref name="payload"/>, checksum included, given the pseudo-header's sum.</summary>
    public static void Write(Span<byte> header, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload, ulong pseudoHeaderSum)
    {
        int length = Length + payload.Length;
        BinaryPrimitives.WriteUInt16BigEndian(header, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(header[LengthOffset..], checked((ushort)length));
        BinaryPrimitives.WriteUInt16BigEndian(header[ChecksumOffset..], 0);
        ulong sum = InternetChecksum.Add(pseudoHeaderSum, header[..Length]);
        ushort checksum = InternetChecksum.Finish(InternetChecksum.Add(sum, payload));
        BinaryPrimitives.WriteUInt16BigEndian(header[ChecksumOffset..], checksum == 0 ? (ushort)0xFFFF : checksum);
    }

    /// <summary>True when the datagram's checksum is right, or absent where that is allowed (IPv4).</summary>
    public static bool IsChecksumValid(ReadOnlySpan<byte> datagram, ulong pseudoHeaderSum, bool isIPv6)
    {
        if (BinaryPrimitives.ReadUInt16BigEndian(datagram[ChecksumOffset..]) == 0)
        {
            return !isIPv6;
        }

        return InternetChecksum.Finish(InternetChecksum.Add(pseudoHeaderSum, datagram)) == 0;
    }
}
