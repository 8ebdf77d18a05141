using System.Buffers.Binary;

namespace Socks5UdpRelay.Gateway.Packets;

/// <summary>
/// The IPv6 header (RFC 8200 §3):
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Traffic Class |           Flow Label                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Payload Length        |  Next Header  |   Hop Limit   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Source Address (128 bits)                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Destination Address (128 bits)                |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Extension headers (RFC 8200 §4) follow as a chain. This gateway skips Hop-by-Hop Options (0),
/// Routing (43) and Destination Options (60), whose common form is Next Header, Hdr Ext Len (in
/// 8-byte units, not counting the first 8); it treats a Fragment header (44) as a fragment, which
/// it does not reassemble; anything else ends the chain as the upper-layer protocol.
/// </summary>
internal static class Ipv6Header
{
    public const int Length = 40;
    public const int AddressLength = 16;
    public const int PayloadLengthOffset = 4;
    public const int NextHeaderOffset = 6;
    public const int HopLimitOffset = 7;
    public const int SourceOffset = 8;
    public const int DestinationOffset = 24;

    /// <summary>The largest payload without a jumbogram: Payload Length is 16 bits.</summary>
    public const int MaxPayloadLength = 65535;

    public const byte HopByHop = 0;
    public const byte Routing = 43;
    public const byte Fragment = 44;
    public const byte DestinationOptions = 60;
    public const byte NoNextHeader = 59;

    /// <summary>More than this many skippable extension headers in one packet is treated as malformed (a bound on the walk).</summary>
    public const int MaxExtensionHeaders = 8;

    /// <summary>Checks the fixed header; the packet's length is 40 + Payload Length (bytes after it are ignored).</summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out int totalLength)
    {
        totalLength = 0;
        if (packet.Length < Length || (packet[0] >> 4) != 6)
        {
            return false;
        }

        // Payload Length 0 means a jumbogram (RFC 2675), which needs a Hop-by-Hop option and a link
        // larger than 64 KiB: not from a TUN device.
        int payload = BinaryPrimitives.ReadUInt16BigEndian(packet[PayloadLengthOffset..]);
        if ((payload == 0 && packet[NextHeaderOffset] != NoNextHeader) || Length + payload > packet.Length)
        {
            return false;
        }

        totalLength = Length + payload;
        return true;
    }

    /// <summary>
    /// Walks the extension headers of a packet (trimmed to its length). Returns the
    /// upper-layer protocol and its offset; <paramref name="isFragment"/> when a Fragment header was
    /// met first. False when a header runs past the packet or the chain is too long.
    /// </summary>
    public static bool TryFindUpperLayer(ReadOnlySpan<byte> packet, out byte protocol, out int offset, out bool isFragment)
    {
        protocol = packet[NextHeaderOffset];
        offset = Length;
        isFragment = false;
        for (int count = 0; ; count++)
        {
            switch (protocol)
            {
                case Fragment:
                    isFragment = true;
                    return true;
                case HopByHop or Routing or DestinationOptions:
                    if (count == MaxExtensionHeaders || offset + 8 > packet.Length)
                    {
                        return false;
                    }

                    int length = (packet[offset + 1] + 1) * 8;
                    if (offset + length > packet.Length)
                    {
                        return false;
                    }

                    protocol = packet[offset];
                    offset += length;
                    break;
                default:
                    return true;
            }
        }
    }

    /// <summary>Writes the 40-byte fixed header.</summary>
    public static void Write(
        Span<byte> header,
        byte trafficClass,
        uint flowLabel,
        int payloadLength,
        byte nextHeader,
        byte hopLimit,
        ReadOnlySpan<byte> source,
        ReadOnlySpan<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(header, (6u << 28) | ((uint)trafficClass << 20) | (flowLabel & 0xFFFFF));
        BinaryPrimitives.WriteUInt16BigEndian(header[PayloadLengthOffset..], checked((ushort)payloadLength));
        header[NextHeaderOffset] = nextHeader;
        header[HopLimitOffset] = hopLimit;
        source.CopyTo(header[SourceOffset..]);
        destination.CopyTo(header[DestinationOffset..]);
    }

    /// <summary>
    /// The sum of the pseudo-header (RFC 8200 §8.1): source, destination, upper-layer packet length
    /// (32 bits), three zero bytes and the Next Header value.
    /// </summary>
    public static ulong PseudoHeaderSum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, int upperLayerLength, byte nextHeader)
    {
        ulong sum = InternetChecksum.Add(0, source);
        sum = InternetChecksum.Add(sum, destination);
        sum = InternetChecksum.AddWord(sum, (ushort)(upperLayerLength >> 16));
        sum = InternetChecksum.AddWord(sum, (ushort)upperLayerLength);
        return InternetChecksum.AddWord(sum, nextHeader);
    }
}
