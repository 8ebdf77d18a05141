using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Policy;

/// <summary>
/// Where the relay may send, decided on the resolved address without allocating: never the
/// server's own endpoints; the proxy host's loopback only when every listener is itself on
/// loopback (or configured); never link-local or the cloud metadata addresses unless configured;
/// with a listener other hosts can reach, never the host's own addresses, multicast or broadcast
/// (README, "Security").
/// </summary>
internal sealed class DestinationPolicy
{
    private static readonly UInt128 Ipv6Loopback = 1;
    private static readonly UInt128 Ec2MetadataV6 = UInt128.Parse("FD00_0EC2_0000_0000_0000_0000_0000_0254".Replace("_", string.Empty), System.Globalization.NumberStyles.HexNumber);

    private readonly bool _allowLoopback;
    private readonly bool _allowLinkLocal;
    private readonly DestinationRule[] _rules;
    private readonly bool _defaultAllow;
    private readonly OwnEndpoints? _own;
    private readonly LocalAddresses? _hostAddresses;

    /// <param name="own">The server's own endpoints, always refused.</param>
    /// <param name="hostAddresses">With a listener other hosts can reach: the host's addresses and broadcasts, refused with multicast; null otherwise.</param>
    public DestinationPolicy(
        bool allowLoopback, bool allowLinkLocal, DestinationRule[]? rules = null, bool defaultAllow = true, OwnEndpoints? own = null, LocalAddresses? hostAddresses = null)
    {
        _allowLoopback = allowLoopback;
        _allowLinkLocal = allowLinkLocal;
        _rules = rules ?? [];
        _defaultAllow = defaultAllow;
        _own = own;
        _hostAddresses = hostAddresses;
    }

    public static DestinationPolicy Create(PolicyOptions policy, IReadOnlyList<System.Net.IPEndPoint> listeners, OwnEndpoints own, LocalAddresses local)
    {
        bool allLoopback = listeners.Count > 0 && listeners.All(e => System.Net.IPAddress.IsLoopback(e.Address));
        bool loopback = policy.LoopbackDestinations.ToLowerInvariant() switch
        {
            "allow" => true,
            "deny" => false,
            _ => allLoopback,
        };
        var rules = policy.Destinations.Select(r => DestinationRule.TryParse(r.Action, r.Network, r.Ports, out _)).OfType<DestinationRule>().ToArray();
        bool defaultAllow = !string.Equals(policy.DefaultDestinationAction, "deny", StringComparison.OrdinalIgnoreCase);
        return new DestinationPolicy(loopback, policy.AllowLinkLocalDestinations, rules, defaultAllow, own, allLoopback ? null : local);
    }

    public bool AllowsLoopback => _allowLoopback;

    /// <summary>The built-in rules first (so no operator rule can open loopback or metadata by accident), then the operator's, first match wins.</summary>
    public bool IsAllowed(in DestinationKey destination)
    {
        if (!IsAllowedByBuiltIns(destination) || _own?.Contains(destination) == true)
        {
            return false;
        }

        if (_hostAddresses is not null && (IsMulticast(destination) || _hostAddresses.IsLocal(destination) || _hostAddresses.IsBroadcast(destination)))
        {
            return false;
        }

        foreach (var rule in _rules)
        {
            if (rule.Matches(destination))
            {
                return rule.Allow;
            }
        }

        return _defaultAllow;
    }

    private static bool IsMulticast(in DestinationKey destination)
        => destination.IsIPv4 ? (destination.IPv4Bits >> 28) == 0xE : (destination.Address >> 120) == 0xFF; // 224.0.0.0/4, ff00::/8

    private bool IsAllowedByBuiltIns(in DestinationKey destination)
    {
        if (destination.IsIPv4)
        {
            uint a = destination.IPv4Bits;
            byte first = (byte)(a >> 24);
            if (first == 127 || a == 0)
            {
                return _allowLoopback && first == 127;
            }

            return _allowLinkLocal || (a >> 16) != 0xA9FE; // 169.254.0.0/16, which holds 169.254.169.254
        }

        UInt128 v6 = destination.Address;
        if (v6 == Ipv6Loopback)
        {
            return _allowLoopback;
        }

        if (v6 == UInt128.Zero)
        {
            return false;
        }

        bool linkLocal = (v6 >> 118) == 0x3FA; // fe80::/10
        return _allowLinkLocal || (!linkLocal && v6 != Ec2MetadataV6);
    }
}
