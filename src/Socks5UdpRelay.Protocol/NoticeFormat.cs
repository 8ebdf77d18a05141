using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// The value syntax of notice, command and answer lines (the README, "Notices"): endpoints as <c>1.2.3.4:53</c>,
/// <c>[2001:db8::1]:53</c> or <c>name.example:53</c> with name bytes outside
/// <c>A-Z a-z 0-9 . - _</c> written <c>%XX</c>; bare addresses for <c>from</c>, IPv4-mapped
/// IPv6 written as IPv4.
/// </summary>
public static class NoticeFormat
{
    /// <summary>A notice line, <c>\n</c> included.</summary>
    public const int MaxLineLength = 1024;

    /// <summary>255 name bytes as <c>%XX</c>, a colon and five digits.</summary>
    public const int MaxEndpointLength = (255 * 3) + 1 + 5;

    /// <summary>"[" + the longest IPv6 text with scope (65) + "]".</summary>
    public const int MaxAddressLength = 67;

    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    public static bool IsPlainNameByte(byte b)
        => b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'.' or (byte)'-' or (byte)'_';

    /// <summary>A value may hold any printable ASCII but space and '='.</summary>
    public static bool IsValueByte(byte b) => b is > 0x20 and < 0x7F and not (byte)'=';

    /// <summary>True when every byte is a <see cref="IsValueByte"/> (an empty value is one).</summary>
    public static bool IsValue(ReadOnlySpan<byte> value) => !value.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E) && !value.Contains((byte)'=');

    /// <summary>Writes a name with bytes outside the plain set as <c>%XX</c>; returns bytes written.</summary>
    public static int EscapeName(Span<byte> destination, ReadOnlySpan<byte> name)
    {
        int n = 0;
        foreach (byte b in name)
        {
            if (IsPlainNameByte(b))
            {
                destination[n++] = b;
            }
            else
            {
                destination[n++] = (byte)'%';
                destination[n++] = Hex[b >> 4];
                destination[n++] = Hex[b & 0xF];
            }
        }

        return n;
    }

    /// <summary>Reverses <see cref="EscapeName"/>; false for a malformed <c>%</c> sequence or a name longer than <paramref name="destination"/>.</summary>
    public static bool TryUnescapeName(ReadOnlySpan<byte> escaped, Span<byte> destination, out int written)
    {
        written = 0;
        for (int i = 0; i < escaped.Length; i++)
        {
            byte b = escaped[i];
            if (b == (byte)'%')
            {
                if (i + 2 >= escaped.Length || !IPAddressText.TryHex(escaped[i + 1], out int hi) || !IPAddressText.TryHex(escaped[i + 2], out int lo))
                {
                    return false;
                }

                b = (byte)((hi << 4) | lo);
                i += 2;
            }

            if (written == destination.Length)
            {
                return false;
            }

            destination[written++] = b;
        }

        return true;
    }

    /// <summary>Writes an address bare, as <c>from</c> wants it (IPv4-mapped IPv6 as IPv4).</summary>
    public static int FormatAddress(Span<byte> destination, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.TryFormat(destination, out int written)
            ? written
            : throw new ArgumentException("Destination too short for an address.", nameof(destination));
    }

    /// <summary>Writes <c>1.2.3.4:53</c> or <c>[2001:db8::1]:53</c>.</summary>
    public static int FormatEndpoint(Span<byte> destination, IPAddress address, int port)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        int n = 0;
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        if (v6)
        {
            destination[n++] = (byte)'[';
        }

        n += FormatAddress(destination[n..], address);
        if (v6)
        {
            destination[n++] = (byte)']';
        }

        return n + FormatPort(destination[n..], port);
    }

    /// <summary>Writes a wire address as an endpoint, escaping a name.</summary>
    public static int FormatEndpoint(Span<byte> destination, in SocksAddress address)
    {
        if (address.Type == AddressType.DomainName)
        {
            int n = EscapeName(destination, address.AddressBytes);
            return n + FormatPort(destination[n..], address.Port);
        }

        if (address.Type == AddressType.IPv4 && address.AddressBytes.Length == 4)
        {
            // Built from the bytes, so the hot path of a logger or notice never allocates an IPAddress.
            uint v = BinaryPrimitives.ReadUInt32BigEndian(address.AddressBytes);
            int n = 0;
            for (int shift = 24; shift >= 0; shift -= 8)
            {
                ((v >> shift) & 0xFF).TryFormat(destination[n..], out int w);
                n += w;
                if (shift > 0)
                {
                    destination[n++] = (byte)'.';
                }
            }

            return n + FormatPort(destination[n..], address.Port);
        }

        return FormatEndpoint(destination, new IPAddress(address.AddressBytes), address.Port);
    }

    public static string FormatEndpoint(IPAddress address, int port)
    {
        Span<byte> buffer = stackalloc byte[MaxAddressLength + 6];
        return Encoding.ASCII.GetString(buffer[..FormatEndpoint(buffer, address, port)]);
    }

    /// <summary>
    /// Splits an endpoint value into host and port: an IP address, or a name with <c>%XX</c>
    /// undone (as Latin-1, byte for byte). False if it is not of that form.
    /// </summary>
    public static bool TryParseEndpoint(ReadOnlySpan<char> value, out string host, out IPAddress? address, out ushort port)
    {
        host = string.Empty;
        address = null;
        port = 0;
        if (value.Length > MaxEndpointLength || !Ascii.IsValid(value))
        {
            return false;
        }

        Span<byte> text = stackalloc byte[value.Length];
        Encoding.ASCII.GetBytes(value, text);
        Span<byte> scratch = stackalloc byte[EndpointScratchLength];
        if (!TryParseEndpoint(text, scratch, out var parsed))
        {
            return false;
        }

        port = parsed.Port;
        if (parsed.Type == AddressType.DomainName)
        {
            host = parsed.GetHostName();
            return true;
        }

        address = parsed.ToIPAddress();
        host = address.ToString();
        return true;
    }

    /// <summary>Room <see cref="TryParseEndpoint(ReadOnlySpan{byte}, Span{byte}, out SocksAddress)"/> needs for a name.</summary>
    public const int EndpointScratchLength = SocksAddressCodec.MaxDomainNameLength;

    /// <summary>
    /// Reads an endpoint value (<c>1.2.3.4:53</c>, <c>[2001:db8::1]:53</c>, <c>name.example:53</c>)
    /// into a wire address without allocating: the address bytes, or the name with <c>%XX</c>
    /// undone, are written to <paramref name="scratch"/> (at least <see cref="EndpointScratchLength"/>
    /// bytes) and <paramref name="address"/> views them. Text of digits and three dots is an IPv4
    /// address when it is one (four parts 0-255 without leading zeros), a name otherwise; an IPv6
    /// address is bracketed and has no zone; a name has 1 to 255 bytes and no unescaped brackets
    /// or colons. False for anything else.
    /// </summary>
    public static bool TryParseEndpoint(ReadOnlySpan<byte> value, Span<byte> scratch, out SocksAddress address)
    {
        address = default;
        int colon = value.LastIndexOf((byte)':');
        if (colon <= 0 || value.Length - colon - 1 > 5 || !IPAddressText.TryParseDecimal(value[(colon + 1)..], ushort.MaxValue, out int port))
        {
            return false;
        }

        var hostPart = value[..colon];
        if (hostPart[0] == (byte)'[')
        {
            if (hostPart.Length < 3 || hostPart[^1] != (byte)']' || !IPAddressText.TryParseIPv6(hostPart[1..^1], scratch))
            {
                return false;
            }

            address = new SocksAddress(AddressType.IPv6, scratch[..16], (ushort)port);
            return true;
        }

        if (hostPart.ContainsAny((byte)':', (byte)'[', (byte)']'))
        {
            return false; // brackets belong to IPv6 endpoints; a name writes them %5B/%5D
        }

        if (IPAddressText.TryParseIPv4(hostPart, scratch))
        {
            address = new SocksAddress(AddressType.IPv4, scratch[..4], (ushort)port);
            return true;
        }

        if (hostPart.Length > MaxEndpointLength || !TryUnescapeName(hostPart, scratch, out int nameLength) || nameLength is 0)
        {
            return false;
        }

        address = new SocksAddress(AddressType.DomainName, scratch[..nameLength], (ushort)port);
        return true;
    }

    private static int FormatPort(Span<byte> destination, int port)
    {
        destination[0] = (byte)':';
        port.TryFormat(destination[1..], out int w);
        return 1 + w;
    }
}
