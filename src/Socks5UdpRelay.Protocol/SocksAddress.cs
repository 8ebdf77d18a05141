using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// An address as it stands on the wire (ATYP, DST.ADDR/BND.ADDR, port), viewing the bytes it was
/// parsed from: reading one allocates nothing; <see cref="ToIPAddress"/> and
/// <see cref="GetHostName"/> allocate on demand.
/// </summary>
public readonly ref struct SocksAddress
{
    public SocksAddress(AddressType type, ReadOnlySpan<byte> addressBytes, ushort port)
    {
        Type = type;
        AddressBytes = addressBytes;
        Port = port;
    }

    public AddressType Type { get; }

    /// <summary>4 bytes (IPv4), 16 bytes (IPv6) or the name's bytes without its length prefix.</summary>
    public ReadOnlySpan<byte> AddressBytes { get; }

    public ushort Port { get; }

    /// <summary>True for an IPv4 or IPv6 address whose bytes are all zero (a client "does not know yet").</summary>
    public bool IsUnspecified => Type != AddressType.DomainName && !AddressBytes.ContainsAnyExcept((byte)0);

    /// <summary>The bytes written by <see cref="SocksAddressCodec.Write(Span{byte}, in SocksAddress)"/>.</summary>
    public int EncodedLength => SocksAddressCodec.GetEncodedLength(Type, AddressBytes.Length);

    public IPAddress ToIPAddress() => Type switch
    {
        AddressType.IPv4 or AddressType.IPv6 => new IPAddress(AddressBytes),
        _ => throw new InvalidOperationException("A domain name is not an IP address."),
    };

    /// <summary>The name as Latin-1 text, byte for byte, so that no input byte is lost or merged.</summary>
    public string GetHostName() => Type == AddressType.DomainName
        ? Encoding.Latin1.GetString(AddressBytes)
        : throw new InvalidOperationException("Not a domain name.");

    /// <summary>An address for display and logs: <c>1.2.3.4:53</c>, <c>[::1]:53</c>, <c>name:53</c> (name escaped as in notices).</summary>
    public override string ToString()
    {
        Span<byte> buffer = stackalloc byte[NoticeFormat.MaxEndpointLength];
        int n = NoticeFormat.FormatEndpoint(buffer, this);
        return Encoding.ASCII.GetString(buffer[..n]);
    }

    public static SocksAddress FromIPAddress(IPAddress address, ushort port, Span<byte> scratch)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (!address.TryWriteBytes(scratch, out int written))
        {
            throw new ArgumentException("Scratch space must hold 16 bytes.", nameof(scratch));
        }

        var type = address.AddressFamily == AddressFamily.InterNetwork ? AddressType.IPv4 : AddressType.IPv6;
        return new SocksAddress(type, scratch[..written], port);
    }

    public static SocksAddress FromIPEndPoint(IPEndPoint endPoint, Span<byte> scratch)
        => FromIPAddress(endPoint.Address, (ushort)endPoint.Port, scratch);
}

/// <summary>
/// The address field shared by requests, replies and UDP headers (RFC 1928 §4, §5, §7):
/// <code>
/// +------+----------+----------+
/// | ATYP | DST.ADDR | DST.PORT |
/// +------+----------+----------+
/// |  1   | Variable |    2     |
/// +------+----------+----------+
/// </code>
/// DST.ADDR is 4 bytes (ATYP 1), 16 bytes (ATYP 4), or one length byte and 1..255 name bytes (ATYP 3).
/// </summary>
public static class SocksAddressCodec
{
    /// <summary>ATYP + length byte + 255 name bytes + port.</summary>
    public const int MaxEncodedLength = 1 + 1 + 255 + 2;

    public const int MaxDomainNameLength = 255;

    public static int GetEncodedLength(AddressType type, int addressLength) => type switch
    {
        AddressType.DomainName => 1 + 1 + addressLength + 2,
        _ => 1 + addressLength + 2,
    };

    /// <summary>
    /// Reads ATYP, address and port. <see cref="OperationStatus.NeedMoreData"/> when the input stops
    /// short; <see cref="OperationStatus.InvalidData"/> for an unknown ATYP or an empty name.
    /// </summary>
    public static OperationStatus TryRead(ReadOnlySpan<byte> source, out SocksAddress address, out int consumed)
    {
        address = default;
        consumed = 0;
        if (source.IsEmpty)
        {
            return OperationStatus.NeedMoreData;
        }

        var type = (AddressType)source[0];
        var status = TryReadAddressLength(type, source, 1, out int nameLengthByte, out int addressLength);
        if (status != OperationStatus.Done)
        {
            return status;
        }

        int addressOffset = 1 + nameLengthByte;
        int total = addressOffset + addressLength + 2;
        if (source.Length < total)
        {
            return OperationStatus.NeedMoreData;
        }

        ushort port = BinaryPrimitives.ReadUInt16BigEndian(source.Slice(addressOffset + addressLength, 2));
        address = new SocksAddress(type, source.Slice(addressOffset, addressLength), port);
        consumed = total;
        return OperationStatus.Done;
    }

    /// <summary>
    /// The length of DST.ADDR after ATYP <paramref name="type"/>, read from <paramref name="source"/>
    /// where the field starts at <paramref name="fieldOffset"/>: 4, 16, or a name's length byte
    /// (then <paramref name="nameLengthByte"/> is 1). <see cref="OperationStatus.NeedMoreData"/>
    /// when that byte is not in yet; <see cref="OperationStatus.InvalidData"/> for an unknown ATYP
    /// or an empty name.
    /// </summary>
    internal static OperationStatus TryReadAddressLength(AddressType type, ReadOnlySpan<byte> source, int fieldOffset, out int nameLengthByte, out int addressLength)
    {
        nameLengthByte = 0;
        addressLength = 0;
        switch (type)
        {
            case AddressType.IPv4:
                addressLength = 4;
                return OperationStatus.Done;
            case AddressType.IPv6:
                addressLength = 16;
                return OperationStatus.Done;
            case AddressType.DomainName when source.Length <= fieldOffset:
                return OperationStatus.NeedMoreData;
            case AddressType.DomainName:
                nameLengthByte = 1;
                addressLength = source[fieldOffset];
                return addressLength == 0 ? OperationStatus.InvalidData : OperationStatus.Done;
            default:
                return OperationStatus.InvalidData;
        }
    }

    /// <summary>Writes the address; returns the bytes written. Throws when the destination is too short or the value cannot be encoded.</summary>
    public static int Write(Span<byte> destination, in SocksAddress address)
        => Write(destination, address.Type, address.AddressBytes, address.Port);

    public static int Write(Span<byte> destination, AddressType type, ReadOnlySpan<byte> addressBytes, ushort port)
    {
        int offset;
        switch (type)
        {
            case AddressType.IPv4 when addressBytes.Length == 4:
            case AddressType.IPv6 when addressBytes.Length == 16:
                destination[0] = (byte)type;
                offset = 1;
                break;
            case AddressType.DomainName when addressBytes.Length is > 0 and <= MaxDomainNameLength:
                destination[0] = (byte)type;
                destination[1] = (byte)addressBytes.Length;
                offset = 2;
                break;
            default:
                throw new ArgumentException($"ATYP {type} cannot carry {addressBytes.Length} address bytes.", nameof(addressBytes));
        }

        addressBytes.CopyTo(destination[offset..]);
        offset += addressBytes.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(offset, 2), port);
        return offset + 2;
    }

    /// <summary>Writes an IP endpoint (an IPv4-mapped IPv6 address is written as ATYP 1).</summary>
    public static int Write(Span<byte> destination, IPAddress address, ushort port)
    {
        Span<byte> scratch = stackalloc byte[16];
        return Write(destination, SocksAddress.FromIPAddress(address, port, scratch));
    }

    /// <summary>Writes a domain-name destination; the name is sent as ASCII (a name outside ASCII must be IDNA-encoded first).</summary>
    public static int WriteDomain(Span<byte> destination, string host, ushort port)
    {
        if (host.Length is 0 or > MaxDomainNameLength || !Ascii.IsValid(host))
        {
            throw new ArgumentException("A SOCKS domain name has 1 to 255 ASCII characters.", nameof(host));
        }

        Span<byte> name = stackalloc byte[host.Length];
        Encoding.ASCII.GetBytes(host, name);
        return Write(destination, AddressType.DomainName, name, port);
    }
}
