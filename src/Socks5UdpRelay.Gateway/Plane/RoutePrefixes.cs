using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>The routed prefixes as masks over raw address bytes, so the per-packet check allocates nothing.</summary>
internal sealed class RoutePrefixes
{
    private readonly (bool IsIPv6, UInt128 Network, UInt128 Mask)[] _prefixes;

    public RoutePrefixes(IEnumerable<IPNetwork> prefixes)
    {
        _prefixes = [.. prefixes.Select(p =>
        {
            bool v6 = p.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;
            int bits = v6 ? 128 : 32;
            UInt128 all = v6 ? UInt128.MaxValue : uint.MaxValue;
            UInt128 mask = p.PrefixLength == 0 ? UInt128.Zero : (all << (bits - p.PrefixLength)) & all;
            Span<byte> bytes = stackalloc byte[16];
            p.BaseAddress.TryWriteBytes(bytes, out int length);
            return (v6, FlowKey.ReadAddress(bytes[..length]) & mask, mask);
        })];
    }

    public bool Contains(ReadOnlySpan<byte> address)
    {
        bool v6 = address.Length == 16;
        UInt128 value = FlowKey.ReadAddress(address);
        foreach (var (isIPv6, network, mask) in _prefixes)
        {
            if (isIPv6 == v6 && (value & mask) == network)
            {
                return true;
            }
        }

        return false;
    }
}
