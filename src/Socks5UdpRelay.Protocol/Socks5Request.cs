using System.Buffers;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// The client's request, RFC 1928 §4 (https://www.rfc-editor.org/rfc/rfc1928#section-4):
/// <code>
/// +----+-----+-------+------+----------+----------+
/// |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
/// +----+-----+-------+------+----------+----------+
/// | 1  |  1  | X'00' |  1   | Variable |    2     |
/// +----+-----+-------+------+----------+----------+
/// </code>
/// </summary>
public static class Socks5Request
{
    /// <summary>VER + CMD + RSV + the longest address (ATYP, 1 + 255 name bytes, port): 262 bytes.</summary>
    public const int MaxLength = 3 + SocksAddressCodec.MaxEncodedLength;

    /// <summary>
    /// Reads a request. An unknown CMD is not malformed: it is returned so the server can answer
    /// it with <see cref="ReplyCode.CommandNotSupported"/>. An unknown ATYP or a bad VER is
    /// <see cref="OperationStatus.InvalidData"/>; <paramref name="invalidReply"/> then says which
    /// reply code fits (<see cref="ReplyCode.AddressTypeNotSupported"/> for the ATYP).
    /// </summary>
    public static OperationStatus TryRead(
        ReadOnlySpan<byte> source, out Socks5Command command, out SocksAddress destination, out int consumed, out ReplyCode invalidReply)
    {
        command = default;
        destination = default;
        consumed = 0;
        invalidReply = ReplyCode.GeneralFailure;
        if (source.IsEmpty)
        {
            return OperationStatus.NeedMoreData;
        }

        if (source[0] != Socks5Constants.Version)
        {
            return OperationStatus.InvalidData;
        }

        if (source.Length < 3)
        {
            return OperationStatus.NeedMoreData;
        }

        command = (Socks5Command)source[1];
        var status = SocksAddressCodec.TryRead(source[3..], out destination, out int addressLength);
        if (status == OperationStatus.InvalidData)
        {
            invalidReply = source[3] is not ((byte)AddressType.IPv4 or (byte)AddressType.IPv6 or (byte)AddressType.DomainName)
                ? ReplyCode.AddressTypeNotSupported
                : ReplyCode.GeneralFailure;
        }

        if (status != OperationStatus.Done)
        {
            return status;
        }

        consumed = 3 + addressLength;
        return OperationStatus.Done;
    }

    public static OperationStatus TryRead(ReadOnlySpan<byte> source, out Socks5Command command, out SocksAddress destination, out int consumed)
        => TryRead(source, out command, out destination, out consumed, out _);

    public static int Write(Span<byte> destination, Socks5Command command, in SocksAddress address)
    {
        destination[0] = Socks5Constants.Version;
        destination[1] = (byte)command;
        destination[2] = Socks5Constants.Reserved;
        return 3 + SocksAddressCodec.Write(destination[3..], address);
    }
}
