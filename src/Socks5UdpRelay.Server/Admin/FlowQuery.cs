using System.Globalization;
using System.Net;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// Which associations a <c>/flows</c> page or stream shows (README, "Flow view"): by user (exact),
/// client address (an address or CIDR, matched against the control connection's and the client's
/// UDP address), destination (a case-insensitive piece of any destination as named or as resolved);
/// in id order from after <see cref="After"/>, at most <see cref="Limit"/>.
/// </summary>
internal sealed record FlowQuery(string? User, IPNetwork? Client, string? Destination, long After, int Limit)
{
    /// <summary>A page's size unless <c>limit=</c> says otherwise; a stream holds up to <c>Admin:MaxPageSize</c> (it is the live view of them all).</summary>
    public const int DefaultPageLimit = 100;

    private static readonly string[] Names = ["user", "client", "destination", "after", "limit"];

    public static bool TryParse(HttpRequestHead request, int maxPageSize, int defaultLimit, out FlowQuery query, out string? error)
    {
        query = new FlowQuery(null, null, null, 0, Math.Min(defaultLimit, maxPageSize));
        error = null;
        try
        {
            if (request.QueryNames.FirstOrDefault(n => !Names.Contains(n)) is { } unknown)
            {
                error = $"unknown parameter '{unknown}': use {string.Join(", ", Names)}";
                return false;
            }

            string? Value(string name)
            {
                string? value = request.QueryValue(name, out bool duplicate);
                return duplicate ? throw new FormatException($"'{name}' given twice") : value;
            }

            IPNetwork? client = null;
            if (Value("client") is { Length: > 0 } c)
            {
                client = IPAddress.TryParse(c, out var address) ? new IPNetwork(Plain(address), address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
                    : Policy.Cidr.TryParse(c, out var network) ? network
                    : throw new FormatException($"client='{c}': give an address or a CIDR (10.0.0.0/8)");
            }

            long after = Value("after") is { } a
                ? long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : throw new FormatException($"after='{a}': give an association id")
                : 0;
            int limit = Value("limit") is { } l
                ? int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out int m) && m >= 1 && m <= maxPageSize ? m : throw new FormatException($"limit='{l}': give 1 to {maxPageSize}")
                : query.Limit;
            query = new FlowQuery(Value("user") is { Length: > 0 } u ? u : null, client, Value("destination") is { Length: > 0 } d ? d : null, after, limit);
            return true;
        }
        catch (FormatException e)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>True when the user, if asked for, is the association's: checked before a snapshot is taken.</summary>
    public bool MayMatch(UdpAssociation association) => association.Id > After && (User is null || association.User == User);

    public bool Matches(AssociationSnapshot s)
    {
        if (s.Id <= After || (User is not null && s.User != User))
        {
            return false;
        }

        if (Client is { } network && !network.Contains(Plain(s.ControlPeer.Address)) && !(s.ClientUdp is { } udp && network.Contains(Plain(udp.Address))))
        {
            return false;
        }

        return Destination is null || s.Mappings.Any(m => m.Destinations.Any(d =>
            d.Destination.Contains(Destination, StringComparison.OrdinalIgnoreCase) || d.Address.Contains(Destination, StringComparison.OrdinalIgnoreCase)));
    }

    private static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
