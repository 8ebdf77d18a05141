using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>A datagram from the client, its header parsed: where it goes and what it carries.</summary>
internal readonly ref struct ClientDatagram(ushort mapping, SocksAddress destination, ReadOnlySpan<byte> payload)
{
    /// <summary>The header's RSV field: the mapping the datagram is for, once the client made one.</summary>
    public ushort Mapping { get; } = mapping;

    public SocksAddress Destination { get; } = destination;

    public ReadOnlySpan<byte> Payload { get; } = payload;
}

/// <summary>
/// The gate of the client side: source filter, then the SOCKS UDP header (RFC 1928 §7), then the
/// datagram budget, FRAG and the size limit, in that order. Pure decisions, no I/O: the
/// association acts on the verdict.
/// </summary>
internal sealed class ClientIngress(ClientSourceFilter filter, TokenBucket budget, int maxPayload)
{
    private TokenBucket _budget = budget;

    public ClientSourceFilter Filter => filter;

    /// <summary>
    /// The verdict on <paramref name="datagram"/> from <paramref name="source"/> (a raw socket
    /// address). <paramref name="parsed"/> is filled whenever the header parsed, so a refusal can
    /// name the destination.
    /// </summary>
    public IngressVerdict Admit(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> source, long now, out ClientDatagram parsed)
    {
        parsed = default;
        if (!filter.Accept(source))
        {
            return IngressVerdict.ForeignSource;
        }

        if (!UdpRequestHeader.TryParse(datagram, out ushort mapping, out byte fragment, out var destination, out int headerLength))
        {
            return IngressVerdict.Malformed;
        }

        parsed = new ClientDatagram(mapping, destination, datagram[headerLength..]);
        if (!_budget.TryTake(now))
        {
            return IngressVerdict.RateLimited;
        }

        if (fragment != 0)
        {
            return IngressVerdict.Fragmented;
        }

        return parsed.Payload.Length > maxPayload ? IngressVerdict.TooLarge : IngressVerdict.Accepted;
    }
}
