using System.Net;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Server.Policy;

/// <summary><c>Policy:AllowClients</c>: the CIDRs that may connect; empty lets everyone who reaches the listener in.</summary>
internal sealed class ClientAllowList
{
    private readonly IPNetwork[] _networks;

    public ClientAllowList(IOptions<PolicyOptions> options)
    {
        _networks = options.Value.AllowClients.Select(c => IPNetwork.Parse(c.Trim())).ToArray();
    }

    public bool Allows(IPAddress client)
    {
        if (_networks.Length == 0)
        {
            return true;
        }

        var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
