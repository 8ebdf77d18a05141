using System.Buffers;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// Username/password sub-negotiation, RFC 1929 §2 (https://www.rfc-editor.org/rfc/rfc1929#section-2).
/// The client's request:
/// <code>
/// +----+------+----------+------+----------+
/// |VER | ULEN |  UNAME   | PLEN |  PASSWD  |
/// +----+------+----------+------+----------+
/// | 1  |  1   | 1 to 255 |  1   | 1 to 255 |
/// +----+------+----------+------+----------+
/// </code>
/// The server's answer (STATUS 0 is success, anything else failure; the server then closes):
/// <code>
/// +----+--------+
/// |VER | STATUS |
/// +----+--------+
/// | 1  |   1    |
/// +----+--------+
/// </code>
/// </summary>
public static class UsernamePasswordAuth
{
    /// <summary>VER + ULEN + 255 + PLEN + 255.</summary>
    public const int MaxRequestLength = 1 + 1 + 255 + 1 + 255;

    public const int ReplyLength = 2;

    public const byte StatusSuccess = 0x00;

    public const byte StatusFailure = 0x01;

    /// <summary>Reads a request. ULEN or PLEN of 0 is malformed, as RFC 1929 fixes both at 1 to 255.</summary>
    public static OperationStatus TryReadRequest(
        ReadOnlySpan<byte> source, out ReadOnlySpan<byte> username, out ReadOnlySpan<byte> password, out int consumed)
    {
        username = default;
        password = default;
        consumed = 0;
        if (source.IsEmpty)
        {
            return OperationStatus.NeedMoreData;
        }

        if (source[0] != Socks5Constants.UserPassVersion)
        {
            return OperationStatus.InvalidData;
        }

        if (source.Length < 2)
        {
            return OperationStatus.NeedMoreData;
        }

        int ulen = source[1];
        if (ulen == 0)
        {
            return OperationStatus.InvalidData;
        }

        if (source.Length < 2 + ulen + 1)
        {
            return OperationStatus.NeedMoreData;
        }

        int plen = source[2 + ulen];
        if (plen == 0)
        {
            return OperationStatus.InvalidData;
        }

        int total = 2 + ulen + 1 + plen;
        if (source.Length < total)
        {
            return OperationStatus.NeedMoreData;
        }

        username = source.Slice(2, ulen);
        password = source.Slice(3 + ulen, plen);
        consumed = total;
        return OperationStatus.Done;
    }

    public static int WriteRequest(Span<byte> destination, ReadOnlySpan<byte> username, ReadOnlySpan<byte> password)
    {
        if (username.Length is 0 or > 255 || password.Length is 0 or > 255)
        {
            throw new ArgumentException("RFC 1929 usernames and passwords are 1 to 255 bytes.");
        }

        destination[0] = Socks5Constants.UserPassVersion;
        destination[1] = (byte)username.Length;
        username.CopyTo(destination[2..]);
        destination[2 + username.Length] = (byte)password.Length;
        password.CopyTo(destination[(3 + username.Length)..]);
        return 3 + username.Length + password.Length;
    }

    public static OperationStatus TryReadReply(ReadOnlySpan<byte> source, out byte status, out int consumed)
    {
        status = 0;
        consumed = 0;
        if (source.IsEmpty)
        {
            return OperationStatus.NeedMoreData;
        }

        if (source[0] != Socks5Constants.UserPassVersion)
        {
            return OperationStatus.InvalidData;
        }

        if (source.Length < ReplyLength)
        {
            return OperationStatus.NeedMoreData;
        }

        status = source[1];
        consumed = ReplyLength;
        return OperationStatus.Done;
    }

    public static int WriteReply(Span<byte> destination, byte status)
    {
        destination[0] = Socks5Constants.UserPassVersion;
        destination[1] = status;
        return ReplyLength;
    }
}
