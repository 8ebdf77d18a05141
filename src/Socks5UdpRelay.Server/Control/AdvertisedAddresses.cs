using System.Net;

namespace Socks5UdpRelay.Server.Control;

/// <summary><c>Relay:AdvertisedAddress</c>: what a UDP ASSOCIATE reply names instead of the local address (NAT, containers).</summary>
internal sealed class AdvertisedAddresses(IReadOnlyList<IPAddress> addresses)
{
    /// <summary>The address to put in BND for a client-facing socket bound on <paramref name="local"/>.</summary>
    public IPAddress For(IPAddress local)
    {
        foreach (var address in addresses)
        {
            if (address.AddressFamily == local.AddressFamily)
            {
                return address;
            }
        }

        return local;
    }
}
