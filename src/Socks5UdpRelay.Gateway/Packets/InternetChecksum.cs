using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Gateway.Packets;

/// <summary>
/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of
/// the data taken as big-endian 16-bit words. The sum is accumulated in native order 32 bits at a
/// time and swapped once at the end, which RFC 1071 §2(B) (byte-order independence) and §2(C)
/// (parallel summation, folded later) allow. Every span added except the last must have an even
/// length, so that words stay aligned across spans.
/// </summary>
internal static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> to a running sum (start with 0).</summary>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, uint>(data);
        foreach (uint word in words)
        {
            sum += word;
        }

        int tail = words.Length * sizeof(uint);
        if (tail < data.Length)
        {
            // Up to three trailing bytes, padded with zeros on the right as RFC 1071 pads an odd byte.
            Span<byte> last = stackalloc byte[sizeof(uint)];
            last.Clear();
            data[tail..].CopyTo(last);
            sum += MemoryMarshal.Read<uint>(last);
        }

        return sum;
    }

    /// <summary>Adds a 16-bit value given in host order, as a big-endian word of the message.</summary>
    public static ulong AddWord(ulong sum, ushort value) =>
        sum + (BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    /// <summary>Folds the sum to 16 bits and complements it: the value to write, big-endian, into the checksum field.</summary>
    public static ushort Finish(ulong sum)
    {
        while ((sum >> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        ushort folded = (ushort)sum;
        if (BitConverter.IsLittleEndian)
        {
            folded = BinaryPrimitives.ReverseEndianness(folded);
        }

        return (ushort)~folded;
    }

    /// <summary>The checksum of one span whose checksum field is zero (or, to verify, holds the checksum: then the result is 0).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));
}
