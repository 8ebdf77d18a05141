using System.Net;
using Socks5UdpRelay.Client;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary>
/// The targets of one probe and how answers find them. One association carries every target:
/// a notice names its target in <c>dst</c> exactly as it was sent; a reply names its source in
/// the UDP header, the resolved address (so for a name, only the port tells).
/// </summary>
internal sealed class ProbeTargets
{
    private readonly Dictionary<string, int> _byNoticeKey = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<(IPAddress, int), int> _byAddress = [];
    private readonly Dictionary<int, int> _byPortOfName = [];

    public ProbeTargets(IReadOnlyList<string> hosts, IReadOnlyList<int> ports, byte[]? payload, bool builtin)
    {
        Hosts = hosts;
        var targets = new List<ProbeTarget>(hosts.Count * ports.Count);
        // Port by port across hosts, so a block of hosts shares the load of each port's round.
        foreach (int port in ports)
        {
            byte[] data = payload ?? (builtin ? BuiltinProbes.For(port) : null) ?? [];
            for (int h = 0; h < hosts.Count; h++)
            {
                var target = new ProbeTarget(h, hosts[h], port, data);
                int index = targets.Count;
                targets.Add(target);
                if (DestinationHost.ParseLiteral(hosts[h]) is { } address)
                {
                    var endpoint = new Socks5Endpoint(address, port);
                    _byNoticeKey[endpoint.ToString()] = index;
                    _byAddress[(Unmap(address), port)] = index;
                }
                else
                {
                    _byNoticeKey[new Socks5Endpoint(hosts[h], port).ToString()] = index;
                    // A name is probed alone (HOST is one name or a block of addresses), so its port is enough.
                    _byPortOfName[port] = index;
                }
            }
        }

        All = targets;
    }

    public IReadOnlyList<string> Hosts { get; }

    public IReadOnlyList<ProbeTarget> All { get; }

    /// <summary>The target a notice's <c>dst</c> names, or -1.</summary>
    public int FindByNotice(string? dst)
    {
        if (dst is null)
        {
            return -1;
        }

        if (_byNoticeKey.TryGetValue(dst, out int index))
        {
            return index;
        }

        return IPEndPoint.TryParse(dst, out var endpoint) && _byAddress.TryGetValue((Unmap(endpoint.Address), endpoint.Port), out index) ? index : -1;
    }

    /// <summary>The target a reply from <paramref name="source"/> answers, or -1.</summary>
    public int FindBySource(Socks5Endpoint source)
    {
        if (source.Address is { } address && _byAddress.TryGetValue((Unmap(address), source.Port), out int index))
        {
            return index;
        }

        if (source.Host is { } host && _byNoticeKey.TryGetValue(new Socks5Endpoint(host, source.Port).ToString(), out index))
        {
            return index;
        }

        return _byPortOfName.TryGetValue(source.Port, out index) ? index : -1;
    }

    private static IPAddress Unmap(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
