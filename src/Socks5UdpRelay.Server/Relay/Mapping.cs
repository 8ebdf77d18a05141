namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// One mapping of an association (README, "Client commands": <c>MAP</c>): its own outbound port
/// and destination flows, selected by a datagram's RSV field. Mapping 0 is the association's
/// first, the only one a client that never sends <c>MAP</c> ever sees. Loop thread only.
/// </summary>
internal sealed class Mapping(ushort number, DestinationTable destinations, MappingInbound inbound, long createdAt)
{
    public ushort Number { get; } = number;

    public DestinationTable Destinations { get; } = destinations;

    /// <summary>What sources it has no destination socket for may send in, under the filtering.</summary>
    public MappingInbound Inbound { get; } = inbound;

    private long _lastUsed = createdAt;

    /// <summary>When the mapping last carried a datagram either way, or was made.</summary>
    public long LastActivity => Destinations.LastActivity(_lastUsed);

    /// <summary>The client sent through the mapping (outbound traffic refreshes it: RFC 4787 REQ-6).</summary>
    public void Touch(long now) => _lastUsed = now;

    /// <summary>Closes its sockets (destinations and inbound) and gives its outbound port back.</summary>
    public void Close()
    {
        Inbound.Dispose();
        Destinations.CloseAll();
    }
}
