namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// One mapping of an association (README, "Client commands": <c>MAP</c>): its own outbound port
/// and destination flows, selected by a datagram's RSV field. Mapping 0 is the association's
/// first, the only one a client that never sends <c>MAP</c> ever sees. Loop thread only.
/// </summary>
internal sealed class Mapping(ushort number, DestinationTable destinations, long createdAt)
{
    public ushort Number { get; } = number;

    public DestinationTable Destinations { get; } = destinations;

    private long _lastUsed = createdAt;

    /// <summary>When the mapping last carried a datagram either way, or was made.</summary>
    public long LastActivity => Destinations.LastActivity(_lastUsed);

    /// <summary>The client sent through the mapping (outbound traffic refreshes it: RFC 4787 REQ-6).</summary>
    public void Touch(long now) => _lastUsed = now;
}
