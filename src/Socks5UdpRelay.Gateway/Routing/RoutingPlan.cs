using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Gateway.Routing;

/// <summary>
/// The commands that route local programs' UDP to the routed prefixes into the device and let the
/// packets the gateway writes back pass the reverse-path filter (the gateway's README, "Routing"):
/// <code>
/// ip rule  PRIO     fwmark DEVICE_MARK iif lo lookup TABLE                           (IPv4, IPv6)
/// ip rule  PRIO+1   fwmark 0/SOCKET_MARK iif lo ipproto udp to PREFIX lookup TABLE   (per prefix; no iif with CaptureForwarded)
/// ip route TABLE    default dev DEVICE                                               (IPv4, IPv6)
/// nft      table inet s5tun_DEVICE: prerouting, iifname DEVICE → meta mark set DEVICE_MARK
/// sysctl   net.ipv4.conf.DEVICE.src_valid_mark=1
/// </code>
/// <c>fwmark 0/SOCKET_MARK</c> matches packets that carry none of the socket mark's bits; a rule-level
/// <c>not</c> would not do: it negates the whole selector, and captured every other packet of the host.
/// The device-mark rule's <c>iif lo</c> matches the reverse-path check's lookup (the kernel makes it
/// with the loopback device as input, fib_validate_source) and not the route lookup of a packet that
/// arrived from the device: a reply the gateway writes for a forwarded host is then routed by the main
/// table towards that host, not back into the device.
/// Pure: it only produces command lines, so it is tested without root.
/// </summary>
internal sealed class RoutingPlan
{
    private readonly TunGatewayOptions _options;

    public RoutingPlan(TunGatewayOptions options)
    {
        _options = options;
        HasIPv4 = options.Routes.Any(r => r.BaseAddress.AddressFamily == AddressFamily.InterNetwork);
        HasIPv6 = options.Routes.Any(r => r.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6);
    }

    public bool HasIPv4 { get; }

    public bool HasIPv6 { get; }

    private string Device => _options.DeviceName;

    private string Table => _options.Table.ToString(CultureInfo.InvariantCulture);

    private string MarkRulePriority => _options.Priority.ToString(CultureInfo.InvariantCulture);

    private string PrefixRulePriority => (_options.Priority + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>The device's set-up, in order; each entry is the arguments of one <c>ip</c> command.</summary>
    public IReadOnlyList<string[]> DeviceCommands()
    {
        var commands = new List<string[]> { new[] { "link", "set", "dev", Device, "mtu", _options.Mtu.ToString(CultureInfo.InvariantCulture) } };
        if (HasIPv6)
        {
            // No link-local address: no DAD, router or MLD solicitations sent into the device.
            commands.Add(["link", "set", "dev", Device, "addrgenmode", "none"]);
        }

        if (HasIPv4)
        {
            commands.Add(["address", "add", $"{_options.AddressV4}/32", "dev", Device]);
        }

        if (HasIPv6)
        {
            commands.Add(["address", "add", $"{_options.AddressV6}/128", "dev", Device, "nodad"]);
        }

        commands.Add(["link", "set", "dev", Device, "up"]);
        foreach (var family in Families())
        {
            commands.Add([family, "route", "add", "default", "dev", Device, "table", Table]);
        }

        return commands;
    }

    /// <summary>The rules, in order (the device-mark rule before the prefix rules); each entry is one <c>ip</c> command.</summary>
    public IReadOnlyList<string[]> RuleCommands()
    {
        var commands = new List<string[]>();
        foreach (var family in Families())
        {
            commands.Add([family, "rule", "add", "priority", MarkRulePriority, "fwmark", Hex(_options.DeviceMark), "iif", "lo", "lookup", Table]);
        }

        foreach (var prefix in _options.Routes)
        {
            string family = prefix.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6 ? "-6" : "-4";
            string[] origin = _options.CaptureForwarded ? [] : ["iif", "lo"];
            commands.Add([family, "rule", "add", "priority", PrefixRulePriority, "fwmark", "0/" + Hex(_options.SocketMark),
                .. origin, "ipproto", "udp", "to", prefix.ToString(), "lookup", Table]);
        }

        return commands;
    }

    /// <summary>The nftables script that marks packets from the device: the prerouting hook runs before the route lookup and its reverse-path check.</summary>
    public string NftSetupScript() =>
        $$"""
        table inet {{_options.NftTableName}} {
            chain prerouting {
                type filter hook prerouting priority mangle; policy accept;
                iifname "{{Device}}" meta mark set {{Hex(_options.DeviceMark)}}
            }
        }
        """ + "\n";

    /// <summary>Deletes the table whether or not it exists (nft 1.0.6 has no <c>destroy</c>; adding first makes the delete always valid).</summary>
    public string NftRemoveScript() =>
        $"add table inet {_options.NftTableName}\ndelete table inet {_options.NftTableName}\n";

    /// <summary>The sysctl file that makes the device's reverse-path check use the packet's mark.</summary>
    public string SourceValidMarkPath => $"/proc/sys/net/ipv4/conf/{Device}/src_valid_mark";

    /// <summary>
    /// For a gateway without IPv6 prefixes, the sysctl file that switches IPv6 off on the device: else
    /// the kernel gives it a link-local address and sends router and multicast listener messages into
    /// it, which the gateway could only count and drop.
    /// </summary>
    public string DisableIPv6Path => $"/proc/sys/net/ipv6/conf/{Device}/disable_ipv6";

    /// <summary>
    /// Of <c>ip rule show</c>'s output, how many rules at each of our priorities look up our table:
    /// the rules to delete, whether this instance added them or a killed one did.
    /// </summary>
    public IReadOnlyList<(string Priority, int Count)> OwnRules(string ruleListing)
    {
        int mark = 0;
        int prefix = 0;
        foreach (var line in ruleListing.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !line.EndsWith($" lookup {Table}", StringComparison.Ordinal))
            {
                continue;
            }

            var priority = line[..colon];
            if (priority == MarkRulePriority)
            {
                mark++;
            }
            else if (priority == PrefixRulePriority)
            {
                prefix++;
            }
        }

        return [(MarkRulePriority, mark), (PrefixRulePriority, prefix)];
    }

    /// <summary>An <c>ip -batch</c> script deleting <paramref name="rules"/> (one rule per line) and flushing our table.</summary>
    public string RemoveScript(IReadOnlyList<(string Priority, int Count)> rules)
    {
        var lines = new List<string>();
        foreach (var (priority, count) in rules)
        {
            lines.AddRange(Enumerable.Repeat($"rule del priority {priority} lookup {Table}", count));
        }

        lines.Add($"route flush table {Table}");
        return string.Join('\n', lines) + "\n";
    }

    private static string Hex(uint value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    private IEnumerable<string> Families()
    {
        if (HasIPv4)
        {
            yield return "-4";
        }

        if (HasIPv6)
        {
            yield return "-6";
        }
    }

    /// <summary>Checks what cannot work before anything is changed; all problems in one line.</summary>
    public static string? Validate(TunGatewayOptions options)
    {
        var problems = new List<string>();
        if (options.Routes.Count == 0)
        {
            problems.Add("no route given (at least one prefix)");
        }

        if (options.Mtu is < 1280 or > 65535)
        {
            problems.Add($"MTU {options.Mtu} is outside 1280-65535");
        }

        if (options.AddressV4.AddressFamily != AddressFamily.InterNetwork || options.AddressV6.AddressFamily != AddressFamily.InterNetworkV6)
        {
            problems.Add("the device addresses must be one IPv4 and one IPv6 address");
        }

        if (options.Table is <= 0 or 253 or 254 or 255)
        {
            problems.Add($"table {options.Table} is reserved or invalid");
        }

        if (options.Priority is <= 0 or >= 32765)
        {
            problems.Add($"rule priority {options.Priority} must lie between the local (0) and main (32766) rules");
        }

        if (options.SocketMark == 0 || options.DeviceMark == 0 || (options.SocketMark & options.DeviceMark) != 0)
        {
            problems.Add("the socket and device marks must be non-zero and share no bit");
        }

        foreach (var route in options.Routes)
        {
            if (IPAddress.IsLoopback(route.BaseAddress))
            {
                problems.Add($"route {route} is loopback");
            }
        }

        if (options.MaxFlows < 1 || options.LastDatagrams < 1)
        {
            problems.Add("MaxFlows and LastDatagrams must be at least 1");
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }
}
