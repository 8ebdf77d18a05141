using System.Net;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// One association as it stands, for the flow view (README, "Flow view"): taken on its loop, so it
/// is consistent, and nothing on the datagram path waits for it.
/// </summary>
internal sealed record AssociationSnapshot(
    long Id,
    string? User,
    IPEndPoint ControlPeer,
    IPEndPoint? ClientUdp,
    IPEndPoint Relay,
    string Mode,
    string Filtering,
    TimeSpan Age,
    TimeSpan? IdleTimeLeft,
    long DatagramsFromClient,
    long BytesFromClient,
    long DatagramsToClient,
    long BytesToClient,
    long InboundRelayed,
    IReadOnlyDictionary<string, long> Drops,
    IReadOnlyList<MappingSnapshot> Mappings);

/// <summary>One mapping: its number, outbound port, and destinations.</summary>
internal sealed record MappingSnapshot(ushort Number, int OutboundPort, int KnownAddresses, IReadOnlyList<DestinationSnapshot> Destinations);

/// <summary>One destination of a mapping: as the client named it, where it resolved, its traffic and its last error.</summary>
internal sealed record DestinationSnapshot(
    string Destination,
    string Address,
    int? Ttl,
    long DatagramsSent,
    long BytesSent,
    long DatagramsReceived,
    long BytesReceived,
    TimeSpan LastSeen,
    ErrorSnapshot? LastError);

/// <summary>An error as the flow view shows it.</summary>
internal sealed record ErrorSnapshot(string Kind, string Errno, string? Icmp, string? From, int? Mtu, int? ReceivedTtl, TimeSpan Ago, long Count);
