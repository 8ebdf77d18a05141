namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// The <c>Limits</c> section. Defaults size one server on a small host: each association costs
/// at least three file descriptors (control TCP, client-facing UDP, one per destination), so the
/// totals stay well inside a 20 000-descriptor limit while no single client can take most of it.
/// </summary>
internal sealed class LimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Control connections at once, all clients together; more are closed on accept.</summary>
    public int MaxConnections { get; set; } = 4096;

    /// <summary>Control connections at once from one client (an IPv4 address, an IPv6 network of <see cref="ClientIPv6PrefixLength"/>).</summary>
    public int MaxConnectionsPerClient { get; set; } = 256;

    /// <summary>
    /// UDP associations at once from one client; the next is answered 0x02. With
    /// <c>Relay:UdpPortRange</c> set it must not exceed the range's size, or one client could take
    /// every relay port (start-up validation says so).
    /// </summary>
    public int MaxAssociationsPerClient { get; set; } = 128;

    /// <summary>
    /// IPv6 clients are counted per network of this prefix length by the per-client limits
    /// (connections, associations, concurrent login attempts): one host commonly has a whole /64 and
    /// picks new addresses from it at will. IPv4 clients are counted per address. 128: per address.
    /// </summary>
    public int ClientIPv6PrefixLength { get; set; } = 64;

    /// <summary>
    /// Control connections whose handshake (greeting, login, request) is not finished, at once, from
    /// one network (<see cref="HandshakeNetworkIPv4PrefixLength"/>, <see cref="HandshakeNetworkIPv6PrefixLength"/>).
    /// A handshake takes milliseconds; stalled ones from many addresses of one network would otherwise
    /// fill <see cref="MaxConnections"/> for everyone for <c>Relay:HandshakeTimeout</c> at a time.
    /// </summary>
    public int MaxHandshakesPerNetwork { get; set; } = 128;

    /// <summary>The IPv4 network <see cref="MaxHandshakesPerNetwork"/> counts by: a /24.</summary>
    public int HandshakeNetworkIPv4PrefixLength { get; set; } = 24;

    /// <summary>The IPv6 network <see cref="MaxHandshakesPerNetwork"/> counts by: a /64.</summary>
    public int HandshakeNetworkIPv6PrefixLength { get; set; } = 64;

    /// <summary>Datagrams per second one association may send (a token bucket); the excess is dropped, counted and noticed (<c>reason=rate-limit</c>). 0: no limit.</summary>
    public int DatagramsPerSecond { get; set; } = 200_000;

    /// <summary>Datagrams an association may send at once above the steady rate.</summary>
    public int DatagramBurst { get; set; } = 20_000;
}
