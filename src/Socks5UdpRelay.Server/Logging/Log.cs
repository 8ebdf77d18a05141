using System.Net;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Logging;

/// <summary>
/// Every log line of the server, with stable event ids: 1xxx hosting and listener, 2xxx control
/// sessions, 3xxx UDP associations, 4xxx destinations and errors. Client-caused events are
/// Debug; faults of the server or its host are Warning or above.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Information, "Listening for SOCKS5 on {Endpoint}")]
    public static partial void Listening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(1002, LogLevel.Warning, "Accepting on {Endpoint} failed: {Error}")]
    public static partial void AcceptFailed(ILogger logger, IPEndPoint endpoint, string error);

    [LoggerMessage(1003, LogLevel.Information, "Stopping: {Sessions} sessions open")]
    public static partial void Stopping(ILogger logger, int sessions);

    [LoggerMessage(1004, LogLevel.Information, "ICMP error details: {Mode}")]
    public static partial void ErrorQueueMode(ILogger logger, string mode);

    [LoggerMessage(1005, LogLevel.Information, "UDP segmentation offload: {Mode}")]
    public static partial void OffloadMode(ILogger logger, string mode);

    [LoggerMessage(1007, LogLevel.Error, "UDP event loop: a handler failed")]
    public static partial void EventLoopFault(ILogger logger, Exception exception);

    [LoggerMessage(1008, LogLevel.Critical, "UDP event loop stopped: no datagram can be relayed any more; stopping the server")]
    public static partial void EventLoopStopped(ILogger logger, Exception exception);

    [LoggerMessage(2001, LogLevel.Debug, "{Client}: handshake not complete within {Timeout}")]
    public static partial void HandshakeTimedOut(ILogger logger, IPEndPoint client, TimeSpan timeout);

    [LoggerMessage(2002, LogLevel.Debug, "{Client}: malformed handshake ({Stage}), closing")]
    public static partial void HandshakeMalformed(ILogger logger, IPEndPoint client, string stage);

    [LoggerMessage(2003, LogLevel.Debug, "{Client}: no acceptable authentication method offered")]
    public static partial void NoAcceptableMethod(ILogger logger, IPEndPoint client);

    [LoggerMessage(2004, LogLevel.Debug, "{Client}: command {Command} not supported")]
    public static partial void CommandNotSupported(ILogger logger, IPEndPoint client, int command);

    [LoggerMessage(2005, LogLevel.Information, "{Client}: connection refused: not in Policy:AllowClients ({Suppressed} more since the last such line)")]
    public static partial void ClientNotAllowed(ILogger logger, IPEndPoint client, long suppressed);

    [LoggerMessage(2006, LogLevel.Debug, "{Client}: CONNECT {Destination} refused: {Reply}")]
    public static partial void ConnectFailed(ILogger logger, IPEndPoint client, string destination, string reply);

    [LoggerMessage(2007, LogLevel.Information, "{Client}: CONNECT {Destination} closed: {BytesUp} bytes up, {BytesDown} bytes down")]
    public static partial void ConnectClosed(ILogger logger, IPEndPoint client, string destination, long bytesUp, long bytesDown);

    [LoggerMessage(2008, LogLevel.Warning, "{Client}: session failed")]
    public static partial void SessionFailed(ILogger logger, Exception exception, IPEndPoint client);

    [LoggerMessage(2009, LogLevel.Warning, "{Client}: authentication failed: {Reason}")]
    public static partial void AuthenticationFailed(ILogger logger, IPEndPoint client, string reason);

    [LoggerMessage(2010, LogLevel.Debug, "{Client}: authenticated as {User}")]
    public static partial void Authenticated(ILogger logger, IPEndPoint client, string user);

    [LoggerMessage(2011, LogLevel.Warning, "{Client}: connection refused: limit {Limit} reached ({Suppressed} more since the last such line)")]
    public static partial void ConnectionLimit(ILogger logger, IPEndPoint client, string limit, long suppressed);

    [LoggerMessage(2012, LogLevel.Warning, "{Client}: UDP ASSOCIATE refused: limit {Limit} reached")]
    public static partial void AssociationLimit(ILogger logger, IPEndPoint client, string limit);

    [LoggerMessage(2013, LogLevel.Debug, "{Client}: this host, not in Policy:AllowClients: answering its greeting with no acceptable methods (the health check's answer)")]
    public static partial void LocalProbeAnswered(ILogger logger, IPEndPoint client);

    [LoggerMessage(3001, LogLevel.Information, "{Client}: UDP association opened, relay {Relay}, client UDP {ClientUdp}")]
    public static partial void AssociationOpened(ILogger logger, IPEndPoint client, IPEndPoint relay, string clientUdp);

    [LoggerMessage(3002, LogLevel.Information,
        "{Client}: UDP association closed ({Reason}) after {Duration}: {DatagramsOut} datagrams/{BytesOut} bytes out, {DatagramsIn} datagrams/{BytesIn} bytes in, {Destinations} destinations, {Notices} notices ({NoticesDropped} dropped), {Errors} errors, {Dropped} datagrams dropped")]
    public static partial void AssociationClosed(
        ILogger logger, IPEndPoint client, string reason, TimeSpan duration, long datagramsOut, long bytesOut, long datagramsIn, long bytesIn,
        long destinations, long notices, long noticesDropped, long errors, long dropped);

    [LoggerMessage(3003, LogLevel.Debug, "{Client}: datagram from {Actual} dropped, expected {Expected}")]
    public static partial void ForeignSourceDropped(ILogger logger, IPEndPoint client, string actual, string expected);

    [LoggerMessage(3004, LogLevel.Debug, "{Client}: UDP ASSOCIATE named {Requested}, not the TCP peer's address; ignored")]
    public static partial void RequestAddressIgnored(ILogger logger, IPEndPoint client, string requested);

    [LoggerMessage(3005, LogLevel.Debug, "{Client}: malformed UDP request header dropped ({Length} bytes)")]
    public static partial void MalformedDatagram(ILogger logger, IPEndPoint client, int length);

    [LoggerMessage(3006, LogLevel.Debug, "{Client}: datagram to {Destination} refused: {Reason}")]
    public static partial void DatagramDenied(ILogger logger, IPEndPoint client, string destination, string reason);

    [LoggerMessage(3007, LogLevel.Debug, "{Client}: {Destination} unresolved: {Reason}")]
    public static partial void Unresolved(ILogger logger, IPEndPoint client, string destination, string reason);

    [LoggerMessage(3008, LogLevel.Warning, "{Client}: UDP ASSOCIATE failed: {Reason}")]
    public static partial void AssociationFailed(ILogger logger, IPEndPoint client, string reason);

    [LoggerMessage(3009, LogLevel.Warning, "{Client}: association loop failed")]
    public static partial void AssociationLoopFailed(ILogger logger, Exception exception, IPEndPoint client);

    [LoggerMessage(3010, LogLevel.Warning,
        "{Client}: UDP datagrams for its association come from {Source}, not from its control connection's address {Expected}: dropped (RFC 1928 section 7). A NAT rewrites the TCP path but not the UDP one, e.g. a load balancer with source NAT (Kubernetes: externalTrafficPolicy Cluster); preserve the client address (Local). Logged once per association")]
    public static partial void SourceMismatch(ILogger logger, IPEndPoint client, IPAddress source, IPAddress expected);

    [LoggerMessage(3011, LogLevel.Debug, "{Client}: command answered {Answer}")]
    public static partial void CommandAnswered(ILogger logger, IPEndPoint client, string answer);

    [LoggerMessage(4001, LogLevel.Debug, "{Client}: destination {Destination} opened on port {Port}")]
    public static partial void DestinationOpened(ILogger logger, IPEndPoint client, DestinationText destination, int port);

    [LoggerMessage(4002, LogLevel.Debug,
        "{Client}: destination {Destination} closed ({Reason}): {DatagramsSent} datagrams/{BytesSent} bytes sent, {DatagramsReceived} datagrams/{BytesReceived} bytes received")]
    public static partial void DestinationClosed(
        ILogger logger, IPEndPoint client, DestinationText destination, string reason, long datagramsSent, long bytesSent, long datagramsReceived, long bytesReceived);

    [LoggerMessage(4003, LogLevel.Debug, "{Client}: {Destination} reported {Kind} ({Errno}) from {From}")]
    public static partial void DestinationError(ILogger logger, IPEndPoint client, string destination, string kind, string errno, string from);

    [LoggerMessage(4004, LogLevel.Warning, "{Client}: destination {Destination} could not be opened: {Error}")]
    public static partial void DestinationOpenFailed(ILogger logger, IPEndPoint client, DestinationText destination, string error);

    [LoggerMessage(4005, LogLevel.Warning, "{Client}: no free outbound UDP port")]
    public static partial void NoOutboundPort(ILogger logger, IPEndPoint client);
}

/// <summary>Lets a destination key be a log field without formatting it unless the line is written.</summary>
internal readonly record struct DestinationText(Addressing.DestinationKey Key)
{
    public override string ToString() => Key.ToString();
}
