using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// Which addresses count as one client, or as one network, for the limits (README, "Security"):
/// an address with its host bits cleared past a prefix length per family. One IPv6 host commonly
/// holds a whole /64 and picks a new address from it at will, so counting IPv6 per address
/// would let one host multiply every per-client limit by 2^64.
/// </summary>
internal readonly record struct NetworkKey(int IPv4PrefixLength, int IPv6PrefixLength)
{
    /// <summary><paramref name="address"/> (IPv4-mapped taken as IPv4) masked to its family's prefix.</summary>
    public IPAddress Of(IPAddress address)
    {
        var a = EndPoints.Normalize(address);
        bool v6 = a.AddressFamily == AddressFamily.InterNetworkV6;
        int prefix = v6 ? IPv6PrefixLength : IPv4PrefixLength;
        Span<byte> bytes = stackalloc byte[16];
        a.TryWriteBytes(bytes, out int length);
        bytes = bytes[..length];
        if (prefix >= length * 8 && !(v6 && a.ScopeId != 0))
        {
            return a;
        }

        for (int bit = prefix; bit < length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        // A new address without a scope: fe80::1%eth0 and fe80::1%eth1 are one network here.
        return new IPAddress(bytes);
    }
}
