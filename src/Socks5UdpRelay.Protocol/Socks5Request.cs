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
        var status = Socks5Message.TryRead(source, out byte code, out destination, out consumed);
        command = (Socks5Command)code;
        invalidReply = status == OperationStatus.InvalidData && source.Length > Socks5Message.PrefixLength && source[0] == Socks5Constants.Version
            && source[Socks5Message.PrefixLength] is not ((byte)AddressType.IPv4 or (byte)AddressType.IPv6 or (byte)AddressType.DomainName)
            ? ReplyCode.AddressTypeNotSupported
            : ReplyCode.GeneralFailure;
        return status;
    }

    public static OperationStatus TryRead(ReadOnlySpan<byte> source, out Socks5Command command, out SocksAddress destination, out int consumed)
        => TryRead(source, out command, out destination, out consumed, out _);

    public static int Write(Span<byte> destination, Socks5Command command, in SocksAddress address)
        => Socks5Message.Write(destination, (byte)command, address);
}
