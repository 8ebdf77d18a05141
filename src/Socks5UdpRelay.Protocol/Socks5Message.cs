using System.Buffers;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// The shape requests (RFC 1928 §4) and replies (§6) share: VER, one code byte (CMD or REP),
/// RSV, then the address field.
/// </summary>
internal static class Socks5Message
{
    /// <summary>VER CODE RSV.</summary>
    public const int PrefixLength = 3;

    public static OperationStatus TryRead(ReadOnlySpan<byte> source, out byte code, out SocksAddress address, out int consumed)
    {
        code = 0;
        address = default;
        consumed = 0;
        if (source.IsEmpty)
        {
            return OperationStatus.NeedMoreData;
        }

        if (source[0] != Socks5Constants.Version)
        {
            return OperationStatus.InvalidData;
        }

        if (source.Length < PrefixLength)
        {
            return OperationStatus.NeedMoreData;
        }

        code = source[1];
        var status = SocksAddressCodec.TryRead(source[PrefixLength..], out address, out int addressLength);
        if (status == OperationStatus.Done)
        {
            consumed = PrefixLength + addressLength;
        }

        return status;
    }

    public static int Write(Span<byte> destination, byte code, in SocksAddress address)
    {
        destination[0] = Socks5Constants.Version;
        destination[1] = code;
        destination[2] = Socks5Constants.Reserved;
        return PrefixLength + SocksAddressCodec.Write(destination[PrefixLength..], address);
    }
}
