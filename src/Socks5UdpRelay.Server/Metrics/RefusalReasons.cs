namespace Socks5UdpRelay.Server.Metrics;

/// <summary>The <c>reason</c> tag of refused connections and associations (and the key their log lines are rate-limited by).</summary>
internal static class RefusalReasons
{
    /// <summary>The client's address is not in <c>Policy:AllowClients</c>.</summary>
    public const string AllowList = "allow-list";

    /// <summary>A connection or association limit of the <c>Limits</c> section.</summary>
    public const string Limit = "limit";

    /// <summary>Every port of <c>Relay:UdpPortRange</c> is held by an association.</summary>
    public const string UdpPortRange = "udp-port-range";

    /// <summary>With <c>Relay:RequireClientPort=true</c>, a UDP ASSOCIATE that did not name the client's address and UDP port.</summary>
    public const string ClientPort = "client-port";
}
