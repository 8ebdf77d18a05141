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

    /// <summary>Control connections at once from one client IP.</summary>
    public int MaxConnectionsPerClient { get; set; } = 256;

    /// <summary>UDP associations at once from one client IP; the next is answered 0x02.</summary>
    public int MaxAssociationsPerClient { get; set; } = 128;

    /// <summary>Datagrams per second one association may send (a token bucket); the excess is dropped, counted and noticed (<c>reason=rate-limit</c>). 0: no limit.</summary>
    public int DatagramsPerSecond { get; set; } = 200_000;

    /// <summary>Datagrams an association may send at once above the steady rate.</summary>
    public int DatagramBurst { get; set; } = 20_000;
}
