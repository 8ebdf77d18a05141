using System.Net;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// Writes RFC 1928 §7 datagrams for one mapping (its number in RSV) into a caller's buffer, and
/// remembers the last host text it was given, so a steady flow to an IP literal string allocates
/// no <see cref="IPAddress"/> per datagram. Safe for concurrent use.
/// </summary>
internal sealed class DatagramEncoder(ushort mapping)
{
    /// <summary>The largest UDP datagram (a 16-bit length).</summary>
    public const int MaxDatagramLength = 65_535;

    // One reference, swapped whole, so concurrent senders never pair a host with another's address.
    private HostText.Literal? _lastHost;

    public ushort Mapping => mapping;

    /// <summary>The buffer length that holds <paramref name="payloadLength"/> bytes behind any header.</summary>
    public static int BufferLength(int payloadLength) => Math.Min(UdpRequestHeader.MaxLength + payloadLength, MaxDatagramLength);

    /// <summary>To an IP destination (ATYP 1 or 4; an IPv4-mapped address goes as IPv4).</summary>
    public int Write(Span<byte> buffer, IPAddress address, int port, ReadOnlySpan<byte> payload)
    {
        Socks5Endpoint.CheckPort(port);
        int header = UdpRequestHeader.Write(buffer, address, (ushort)port, mapping);
        return AppendPayload(buffer, header, payload);
    }

    /// <summary>To a name (ATYP 3), or to the address when <paramref name="host"/> is an IP literal.</summary>
    public int Write(Span<byte> buffer, string host, int port, ReadOnlySpan<byte> payload)
    {
        var last = Volatile.Read(ref _lastHost);
        if (last is null || !ReferenceEquals(last.Host, host))
        {
            last = new HostText.Literal(host, HostText.TryParseIPLiteral(host, out var literal) ? literal : null);
            Volatile.Write(ref _lastHost, last);
        }

        if (last.Address is { } address)
        {
            return Write(buffer, address, port, payload);
        }

        Socks5Endpoint.CheckPort(port);
        Span<byte> name = stackalloc byte[SocksAddressCodec.MaxDomainNameLength];
        int nameLength = HostText.EncodeName(host, name);
        int header = UdpRequestHeader.Write(buffer, new SocksAddress(AddressType.DomainName, name[..nameLength], (ushort)port), mapping);
        return AppendPayload(buffer, header, payload);
    }

    private static int AppendPayload(Span<byte> buffer, int header, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxDatagramLength - header || payload.Length > buffer.Length - header)
        {
            throw new ArgumentException($"A payload of {payload.Length} bytes does not fit in one datagram with its {header}-byte SOCKS header.", nameof(payload));
        }

        payload.CopyTo(buffer[header..]);
        return header + payload.Length;
    }
}
