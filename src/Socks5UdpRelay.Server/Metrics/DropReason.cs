namespace Socks5UdpRelay.Server.Metrics;

/// <summary>Why a datagram was not relayed: the <c>reason</c> label of <c>socks5udprelay.datagrams.dropped</c>.</summary>
internal enum DropReason
{
    /// <summary>From an address (or port) other than the association's client.</summary>
    ForeignSource,

    /// <summary>A SOCKS UDP header that does not parse.</summary>
    Malformed,

    /// <summary>FRAG ≠ 0: fragments are not reassembled.</summary>
    Fragmented,

    /// <summary>A payload over <c>Relay:MaxDatagramSize</c>.</summary>
    TooLarge,

    /// <summary>A destination the policy refuses.</summary>
    Policy,

    /// <summary>Over the association's <c>Limits:DatagramsPerSecond</c>.</summary>
    RateLimit,

    /// <summary>To a name that did not resolve, or while too many of its datagrams waited.</summary>
    Unresolved,

    /// <summary>To a name while too many lookups were in flight, or too many bytes waited for names (<c>reason=busy</c>).</summary>
    ResolverBusy,

    /// <summary>The kernel refused it (after one retry past a reported error), or the destination could not be opened.</summary>
    SendFailed,

    /// <summary>The destination socket's send buffer was full: dropped rather than waited for.</summary>
    BufferFull,

    /// <summary>A reply too large to wrap in a SOCKS header for the client.</summary>
    ReplyTooLarge,

    /// <summary>For a mapping (RSV) the association does not hold.</summary>
    UnknownMapping,

    /// <summary>An unsolicited datagram the mapping's filtering does not admit (<c>Relay:Filtering</c>).</summary>
    InboundFiltered,

    /// <summary>An unsolicited datagram from a source the destination policy refuses.</summary>
    InboundDenied,

    /// <summary>Unsolicited datagrams past the mapping's inbound budget.</summary>
    InboundRateLimited,
}

internal static class DropReasons
{
    public static readonly int Count = Enum.GetValues<DropReason>().Length;

    public static string WireName(this DropReason reason) => reason switch
    {
        DropReason.ForeignSource => "foreign-source",
        DropReason.Malformed => "malformed",
        DropReason.Fragmented => "fragmented",
        DropReason.TooLarge => "too-large",
        DropReason.Policy => "policy",
        DropReason.RateLimit => "rate-limit",
        DropReason.Unresolved => "unresolved",
        DropReason.ResolverBusy => "resolver-busy",
        DropReason.SendFailed => "send-failed",
        DropReason.BufferFull => "buffer-full",
        DropReason.ReplyTooLarge => "reply-too-large",
        DropReason.UnknownMapping => "unknown-mapping",
        DropReason.InboundFiltered => "inbound-filtered",
        DropReason.InboundDenied => "inbound-denied",
        DropReason.InboundRateLimited => "inbound-rate-limit",
        _ => "unknown",
    };
}
