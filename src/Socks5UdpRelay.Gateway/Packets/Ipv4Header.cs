using System.Buffers.Binary;

namespace Socks5UdpRelay.Gateway.Packets;

/// <summary>
/// The IPv4 header (RFC 791 §3.1):
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |Type of Service|          Total Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Identification        |Flags|      Fragment Offset    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Source Address                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Destination Address                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options                    |    Padding    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Flags: bit 1 DF (0x4000 of the 16-bit word), bit 2 MF (0x2000); the offset is in 8-byte units.
/// </summary>
internal static class Ipv4Header
{
    public const int MinLength = 20;
    public const int AddressLength = 4;
    public const int TypeOfServiceOffset = 1;
    public const int TotalLengthOffset = 2;
    public const int IdentificationOffset = 4;
    public const int FlagsOffset = 6;
    public const int TtlOffset = 8;
    public const int ProtocolOffset = 9;
    public const int ChecksumOffset = 10;
    public const int SourceOffset = 12;
    public const int DestinationOffset = 16;

    /// <summary>The largest IPv4 packet: Total Length is 16 bits.</summary>
    public const int MaxPacketLength = 65535;

    private const ushort DontFragment = 0x4000;
    private const ushort MoreFragments = 0x2000;
    private const ushort FragmentOffsetMask = 0x1FFF;

    /// <summary>
    /// Checks the fixed header and returns the header length (IHL × 4, options included) and the
    /// packet length the header claims. False for anything that is not a whole, well-formed IPv4
    /// header inside <paramref name="packet"/> (bytes after Total Length are ignored, as a link's
    /// padding would be).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out int headerLength, out int totalLength)
    {
        headerLength = 0;
        totalLength = 0;
        if (packet.Length < MinLength || (packet[0] >> 4) != 4)
        {
            return false;
        }

        int ihl = (packet[0] & 0x0F) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(packet[TotalLengthOffset..]);
        if (ihl < MinLength || total < ihl || total > packet.Length)
        {
            return false;
        }

        // A header whose checksum is wrong is not an IPv4 header (RFC 1122 §3.2.1.2: discard silently).
        if (InternetChecksum.Compute(packet[..ihl]) != 0)
        {
            return false;
        }

        headerLength = ihl;
        totalLength = total;
        return true;
    }

    /// <summary>True for any fragment: the first (MF set) as well as later ones (offset ≠ 0).</summary>
    public static bool IsFragment(ReadOnlySpan<byte> header) =>
        (BinaryPrimitives.ReadUInt16BigEndian(header[FlagsOffset..]) & (MoreFragments | FragmentOffsetMask)) != 0;

    /// <summary>
    /// Writes a 20-byte header without options, checksum included.
    /// </summary>
    public static void Write(
        Span<byte> header,
        byte typeOfService,
        int totalLength,
        ushort identification,
        bool dontFragment,
        byte ttl,
        byte protocol,
        ReadOnlySpan<byte> source,
        ReadOnlySpan<byte> destination)
    {
        header[0] = 0x45;
        header[TypeOfServiceOffset] = typeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(header[TotalLengthOffset..], checked((ushort)totalLength));
        BinaryPrimitives.WriteUInt16BigEndian(header[IdentificationOffset..], identification);
        BinaryPrimitives.WriteUInt16BigEndian(header[FlagsOffset..], dontFragment ? DontFragment : (ushort)0);
        header[TtlOffset] = ttl;
        header[ProtocolOffset] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(header[ChecksumOffset..], 0);
        source.CopyTo(header[SourceOffset..]);
        destination.CopyTo(header[DestinationOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(header[ChecksumOffset..], InternetChecksum.Compute(header[..MinLength]));
    }

    /// <summary>The sum of the pseudo-header (RFC 768): source, destination, a zero byte, the protocol and the upper-layer length.</summary>
    public static ulong PseudoHeaderSum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int upperLayerLength)
    {
        ulong sum = InternetChecksum.Add(0, source);
        sum = InternetChecksum.Add(sum, destination);
        sum = InternetChecksum.AddWord(sum, protocol);
        return InternetChecksum.AddWord(sum, (ushort)upperLayerLength);
    }
}
