using System.Collections.Immutable;
using System.Net;
using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Policy;

/// <summary>
/// The server's own endpoints (its SOCKS listeners and its HTTP endpoint), as they are bound:
/// refused as destinations in every configuration, so no client can reach the server's admin or
/// metrics routes, or loop the proxy into itself, through the proxy.
/// </summary>
internal sealed class OwnEndpoints(LocalAddresses local)
{
    private ImmutableArray<IPEndPoint> _endpoints = [];

    public void Add(IPEndPoint endpoint) => ImmutableInterlocked.Update(ref _endpoints, static (list, e) => list.Add(e), endpoint);

    /// <summary>True for one of the server's endpoints; one bound to a wildcard address is reached at any of the host's addresses and its loopback.</summary>
    public bool Contains(in DestinationKey key)
    {
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.Port != key.Port)
            {
                continue;
            }

            var address = endpoint.Address;
            if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            {
                if (local.IsLocal(key) || IsLoopback(key))
                {
                    return true;
                }
            }
            else if (DestinationKey.From(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, key.Port) == key)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsLoopback(in DestinationKey key) => key.IsIPv4 ? (key.IPv4Bits >> 24) == 127 : key.Address == UInt128.One;
}
