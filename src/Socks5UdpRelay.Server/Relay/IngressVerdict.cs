namespace Socks5UdpRelay.Server.Relay;

/// <summary>What <see cref="ClientIngress"/> decided about one datagram from the client side.</summary>
internal enum IngressVerdict
{
    /// <summary>Relay it.</summary>
    Accepted,

    /// <summary>Not from the association's client (address, or port once fixed).</summary>
    ForeignSource,

    /// <summary>The SOCKS UDP header does not parse.</summary>
    Malformed,

    /// <summary>Over the association's datagram budget.</summary>
    RateLimited,

    /// <summary>FRAG ≠ 0: fragments are not reassembled (RFC 1928 §7 allows dropping them).</summary>
    Fragmented,

    /// <summary>A payload over <c>Relay:MaxDatagramSize</c>.</summary>
    TooLarge,
}
