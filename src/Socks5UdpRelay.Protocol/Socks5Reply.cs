using System.Buffers;
using System.Net;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// The server's reply, RFC 1928 §6 (https://www.rfc-editor.org/rfc/rfc1928#section-6):
/// <code>
/// +----+-----+-------+------+----------+----------+
/// |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
/// +----+-----+-------+------+----------+----------+
/// | 1  |  1  | X'00' |  1   | Variable |    2     |
/// +----+-----+-------+------+----------+----------+
/// </code>
/// </summary>
public static class Socks5Reply
{
    /// <summary>Same shape as a request: at most 262 bytes.</summary>
    public const int MaxLength = 3 + SocksAddressCodec.MaxEncodedLength;

    /// <summary>VER REP RSV ATYP(1) 0.0.0.0 0: what a failure reply carries.</summary>
    public const int FailureLength = 3 + 1 + 4 + 2;

    public static OperationStatus TryRead(ReadOnlySpan<byte> source, out ReplyCode reply, out SocksAddress bound, out int consumed)
    {
        var status = Socks5Message.TryRead(source, out byte code, out bound, out consumed);
        reply = (ReplyCode)code;
        return status;
    }

    public static int Write(Span<byte> destination, ReplyCode reply, in SocksAddress bound)
        => Socks5Message.Write(destination, (byte)reply, bound);

    public static int Write(Span<byte> destination, ReplyCode reply, IPAddress address, ushort port)
    {
        Span<byte> scratch = stackalloc byte[16];
        return Write(destination, reply, SocksAddress.FromIPAddress(address, port, scratch));
    }

    /// <summary>A failure reply with BND 0.0.0.0:0, as RFC 1928 leaves BND meaningless there.</summary>
    public static int WriteFailure(Span<byte> destination, ReplyCode reply)
    {
        ReadOnlySpan<byte> zero = [0, 0, 0, 0];
        return Write(destination, reply, new SocksAddress(AddressType.IPv4, zero, 0));
    }

    /// <summary>Text for logs and CLI messages.</summary>
    public static string Describe(ReplyCode reply) => reply switch
    {
        ReplyCode.Succeeded => "succeeded",
        ReplyCode.GeneralFailure => "general SOCKS server failure",
        ReplyCode.ConnectionNotAllowed => "connection not allowed by ruleset",
        ReplyCode.NetworkUnreachable => "network unreachable",
        ReplyCode.HostUnreachable => "host unreachable",
        ReplyCode.ConnectionRefused => "connection refused",
        ReplyCode.TtlExpired => "TTL expired",
        ReplyCode.CommandNotSupported => "command not supported",
        ReplyCode.AddressTypeNotSupported => "address type not supported",
        _ => $"unassigned reply code 0x{(byte)reply:X2}",
    };
}
