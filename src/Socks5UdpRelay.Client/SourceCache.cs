using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// The last source a receiver saw, so a steady flow from one peer allocates no endpoint per
/// datagram. One per receiver; not thread-safe (each receiver reads from one task at a time).
/// </summary>
internal sealed class SourceCache
{
    private Socks5Endpoint? _last;

    public Socks5Endpoint Get(in SocksAddress source)
    {
        if (_last is { } last && last.Port == source.Port && SameAddress(last, source))
        {
            return last;
        }

        return _last = Socks5Endpoint.FromWire(source);
    }

    private static bool SameAddress(Socks5Endpoint endpoint, in SocksAddress wire)
    {
        if (wire.Type == AddressType.DomainName)
        {
            if (endpoint.Host is not { } host || host.Length != wire.AddressBytes.Length)
            {
                return false;
            }

            for (int i = 0; i < host.Length; i++)
            {
                if (host[i] != wire.AddressBytes[i])
                {
                    return false;
                }
            }

            return true;
        }

        Span<byte> bytes = stackalloc byte[16];
        return endpoint.Address is { } address
            && address.TryWriteBytes(bytes, out int written)
            && bytes[..written].SequenceEqual(wire.AddressBytes);
    }
}
