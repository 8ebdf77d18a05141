using System.Buffers;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// Method negotiation, RFC 1928 §3 (https://www.rfc-editor.org/rfc/rfc1928#section-3).
/// The client's greeting:
/// <code>
/// +----+----------+----------+
/// |VER | NMETHODS | METHODS  |
/// +----+----------+----------+
/// | 1  |    1     | 1 to 255 |
/// +----+----------+----------+
/// </code>
/// The server's choice:
/// <code>
/// +----+--------+
/// |VER | METHOD |
/// +----+--------+
/// | 1  |   1    |
/// +----+--------+
/// </code>
/// </summary>
public static class MethodSelection
{
    /// <summary>VER + NMETHODS + 255 methods.</summary>
    public const int MaxGreetingLength = 2 + 255;

    public const int ReplyLength = 2;

    /// <summary>Reads a greeting; <paramref name="methods"/> views the METHODS bytes. NMETHODS = 0 is malformed.</summary>
    public static OperationStatus TryReadGreeting(ReadOnlySpan<byte> source, out ReadOnlySpan<byte> methods, out int consumed)
    {
        methods = default;
        consumed = 0;
        if (source.IsEmpty)
        {
            return OperationStatus.NeedMoreData;
        }

        if (source[0] != Socks5Constants.Version)
        {
            return OperationStatus.InvalidData;
        }

        if (source.Length < 2)
        {
            return OperationStatus.NeedMoreData;
        }

        int count = source[1];
        if (count == 0)
        {
            return OperationStatus.InvalidData;
        }

        if (source.Length < 2 + count)
        {
            return OperationStatus.NeedMoreData;
        }

        methods = source.Slice(2, count);
        consumed = 2 + count;
        return OperationStatus.Done;
    }

    public static int WriteGreeting(Span<byte> destination, ReadOnlySpan<AuthMethod> methods)
    {
        if (methods.Length is 0 or > 255)
        {
            throw new ArgumentException("A greeting offers 1 to 255 methods.", nameof(methods));
        }

        destination[0] = Socks5Constants.Version;
        destination[1] = (byte)methods.Length;
        for (int i = 0; i < methods.Length; i++)
        {
            destination[2 + i] = (byte)methods[i];
        }

        return 2 + methods.Length;
    }

    public static OperationStatus TryReadReply(ReadOnlySpan<byte> source, out AuthMethod method, out int consumed)
    {
        method = default;
        consumed = 0;
        if (source.IsEmpty)
        {
            return OperationStatus.NeedMoreData;
        }

        if (source[0] != Socks5Constants.Version)
        {
            return OperationStatus.InvalidData;
        }

        if (source.Length < ReplyLength)
        {
            return OperationStatus.NeedMoreData;
        }

        method = (AuthMethod)source[1];
        consumed = ReplyLength;
        return OperationStatus.Done;
    }

    public static int WriteReply(Span<byte> destination, AuthMethod method)
    {
        destination[0] = Socks5Constants.Version;
        destination[1] = (byte)method;
        return ReplyLength;
    }
}
