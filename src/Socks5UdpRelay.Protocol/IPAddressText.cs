using System.Buffers.Binary;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// IP address text to address bytes without allocating an <see cref="System.Net.IPAddress"/>, for
/// lines a server parses on every command. Strict: IPv4 is four decimal parts (0-255, no leading
/// zeros); IPv6 is RFC 4291 §2.2 text (hex groups, one <c>::</c>, an IPv4 tail), without a zone.
/// </summary>
internal static class IPAddressText
{
    /// <summary>The longest IPv6 text: six full groups and an IPv4 tail.</summary>
    public const int MaxIPv6Length = 45;

    /// <summary>Parses <c>a.b.c.d</c> into 4 bytes.</summary>
    public static bool TryParseIPv4(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        if (text.Length is < 7 or > 15)
        {
            return false;
        }

        for (int part = 0; part < 4; part++)
        {
            int end = part < 3 ? text.IndexOf((byte)'.') : text.Length;
            if (end < 0 || !TryParseDecimalOctet(text[..end], out byte value))
            {
                return false;
            }

            destination[part] = value;
            text = part < 3 ? text[(end + 1)..] : default;
        }

        return true;
    }

    /// <summary>Parses IPv6 text (no brackets, no zone) into 16 bytes.</summary>
    public static bool TryParseIPv6(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        if (text.Length is < 2 or > MaxIPv6Length)
        {
            return false;
        }

        Span<ushort> groups = stackalloc ushort[8];
        int count = 0;
        int compressedAt = -1;
        int i = 0;
        if (text[0] == (byte)':')
        {
            if (text[1] != (byte)':')
            {
                return false;
            }

            compressedAt = 0;
            i = 2;
        }

        while (i < text.Length)
        {
            int start = i;
            int value = 0;
            while (i < text.Length && i - start < 5 && TryHex(text[i], out int digit))
            {
                value = (value << 4) | digit;
                i++;
            }

            if (i < text.Length && text[i] == (byte)'.')
            {
                // The last 32 bits written as IPv4 (RFC 4291 §2.2 form 3).
                if (count > 6 || !TryParseIPv4(text[start..], destination[..4]))
                {
                    return false;
                }

                groups[count++] = BinaryPrimitives.ReadUInt16BigEndian(destination);
                groups[count++] = BinaryPrimitives.ReadUInt16BigEndian(destination[2..]);
                i = text.Length;
                break;
            }

            if (i == start || i - start > 4 || count == 8)
            {
                return false;
            }

            groups[count++] = (ushort)value;
            if (i == text.Length)
            {
                break;
            }

            if (text[i] != (byte)':' || ++i == text.Length)
            {
                return false;
            }

            if (text[i] == (byte)':')
            {
                if (compressedAt >= 0)
                {
                    return false;
                }

                compressedAt = count;
                i++;
            }
        }

        if (compressedAt < 0 ? count != 8 : count > 7)
        {
            return false;
        }

        destination[..16].Clear();
        int tail = count - Math.Max(compressedAt, 0);
        for (int g = 0; g < count; g++)
        {
            int slot = compressedAt >= 0 && g >= compressedAt ? 8 - tail + (g - compressedAt) : g;
            BinaryPrimitives.WriteUInt16BigEndian(destination[(slot * 2)..], groups[g]);
        }

        return true;
    }

    /// <summary>Decimal digits only, no sign, at most <paramref name="max"/>; leading zeros are allowed.</summary>
    public static bool TryParseDecimal(ReadOnlySpan<byte> text, int max, out int value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 10)
        {
            return false;
        }

        long n = 0;
        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            n = (n * 10) + (b - '0');
        }

        if (n > max)
        {
            return false;
        }

        value = (int)n;
        return true;
    }

    public static bool TryHex(byte c, out int value)
    {
        value = c switch
        {
            >= (byte)'0' and <= (byte)'9' => c - '0',
            >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
            >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
            _ => -1,
        };
        return value >= 0;
    }

    private static bool TryParseDecimalOctet(ReadOnlySpan<byte> text, out byte value)
    {
        value = 0;
        if (text.Length is 0 or > 3 || (text.Length > 1 && text[0] == (byte)'0') || !TryParseDecimal(text, 255, out int n))
        {
            return false;
        }

        value = (byte)n;
        return true;
    }
}
