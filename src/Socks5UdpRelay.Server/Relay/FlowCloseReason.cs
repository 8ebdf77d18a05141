namespace Socks5UdpRelay.Server.Relay;

/// <summary>Why a destination flow was closed: the ones the client is told about (when it held a setting there) carry a <c>DST-CLOSED</c> reason.</summary>
internal enum FlowCloseReason
{
    /// <summary>No datagram either way for <c>Relay:DestinationIdleTimeout</c>.</summary>
    Idle,

    /// <summary>The least recently used one, closed to make room under <c>Relay:MaxDestinationsPerAssociation</c>.</summary>
    Evicted,

    /// <summary>Its mapping, or the whole association, was closed.</summary>
    Owner,
}
