using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Udp;

namespace Socks5UdpRelay.Server.Control;

/// <summary>What a control session needs beyond the relay's services: advertised addresses, and the set of live associations.</summary>
internal sealed class SessionContext(RelayContext relay, IReadOnlyList<IPAddress> advertised, Auth.UserDirectory users, ClientTracker clients)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<UdpAssociation, byte> _associations = new();

    public RelayContext Relay { get; } = relay;

    public Auth.UserDirectory Users { get; } = users;

    public ClientTracker Clients { get; } = clients;

    public int AssociationCount => _associations.Count;

    public IEnumerable<UdpAssociation> Associations => _associations.Keys;

    /// <summary>The address to put in BND for a client-facing socket bound on <paramref name="local"/>.</summary>
    public IPAddress AdvertisedFor(IPAddress local)
    {
        foreach (var address in advertised)
        {
            if (address.AddressFamily == local.AddressFamily)
            {
                return address;
            }
        }

        return local;
    }

    public void Add(UdpAssociation association) => _associations.TryAdd(association, 0);

    public void Remove(UdpAssociation association) => Relay.Metrics.AssociationClosed(association, () => _associations.TryRemove(association, out _));

    public static IPAddress Normalize(IPAddress address)
        => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static IPEndPoint Normalize(EndPoint? endPoint)
    {
        var ip = (IPEndPoint)endPoint!;
        return ip.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ip.Address.MapToIPv4(), ip.Port) : ip;
    }

    public static bool IsV6(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6;
}
