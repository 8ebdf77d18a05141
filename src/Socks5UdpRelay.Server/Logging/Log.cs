using System.Net;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Logging;

/// <summary>
/// Every log line of the server, with stable event ids: 1xxx hosting and listener, 2xxx control
/// sessions, 3xxx UDP associations, 4xxx destinations and errors. Client-caused events are
/// Debug; faults of the server or its host are Warning or above. Lines at Information or above
/// that a client can cause over and over go through <see cref="LogRateLimiter"/>: the public
/// method decides, the generated one (suffix <c>Line</c>) writes, with the count not written.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Information, "Listening for SOCKS5 on {Endpoint}")]
    public static partial void Listening(ILogger logger, IPEndPoint endpoint);

    public static void AcceptFailed(ILogger logger, IPEndPoint endpoint, Exception exception, TimeSpan retry)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 1002, out long suppressed))
        {
            AcceptFailedLine(logger, endpoint, $"{exception.GetType().Name}: {exception.Message}", retry, suppressed);
        }
    }

    [LoggerMessage(1002, LogLevel.Warning, "Accepting on {Endpoint} failed: {Error}; accepting again in {Retry} ({Suppressed} more since the last such line)")]
    private static partial void AcceptFailedLine(ILogger logger, IPEndPoint endpoint, string error, TimeSpan retry, long suppressed);

    public static void AcceptedConnectionFailed(ILogger logger, IPEndPoint endpoint, Exception exception)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Error, 1009, out long suppressed))
        {
            AcceptedConnectionFailedLine(logger, exception, endpoint, suppressed);
        }
    }

    [LoggerMessage(1009, LogLevel.Error, "A connection accepted on {Endpoint} could not be taken on; closed, and accepting goes on ({Suppressed} more since the last such line)")]
    private static partial void AcceptedConnectionFailedLine(ILogger logger, Exception exception, IPEndPoint endpoint, long suppressed);

    [LoggerMessage(1010, LogLevel.Critical, "Accepting on {Endpoint} stopped: the listener is closed; /healthz and the healthcheck command now report unhealthy")]
    public static partial void AcceptLoopEnded(ILogger logger, IPEndPoint endpoint);

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

    public static void ClientNotAllowed(ILogger logger, IPEndPoint client)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Information, 2005, out long suppressed))
        {
            ClientNotAllowedLine(logger, client, suppressed);
        }
    }

    [LoggerMessage(2005, LogLevel.Information, "{Client}: connection refused: not in Policy:AllowClients ({Suppressed} more since the last such line)")]
    private static partial void ClientNotAllowedLine(ILogger logger, IPEndPoint client, long suppressed);

    [LoggerMessage(2006, LogLevel.Debug, "{Client}: CONNECT {Destination} refused: {Reply}")]
    public static partial void ConnectFailed(ILogger logger, IPEndPoint client, string destination, string reply);

    [LoggerMessage(2007, LogLevel.Information, "{Client}: CONNECT {Destination} closed: {BytesUp} bytes up, {BytesDown} bytes down")]
    public static partial void ConnectClosed(ILogger logger, IPEndPoint client, string destination, long bytesUp, long bytesDown);

    public static void SessionFailed(ILogger logger, Exception exception, IPEndPoint client)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 2008, out long suppressed))
        {
            SessionFailedLine(logger, exception, client, suppressed);
        }
    }

    [LoggerMessage(2008, LogLevel.Warning, "{Client}: session failed ({Suppressed} more since the last such line)")]
    private static partial void SessionFailedLine(ILogger logger, Exception exception, IPEndPoint client, long suppressed);

    public static void AuthenticationFailed(ILogger logger, IPEndPoint client, string reason)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 2009, out long suppressed))
        {
            AuthenticationFailedLine(logger, client, reason, suppressed);
        }
    }

    [LoggerMessage(2009, LogLevel.Warning, "{Client}: authentication failed: {Reason} ({Suppressed} more since the last such line)")]
    private static partial void AuthenticationFailedLine(ILogger logger, IPEndPoint client, string reason, long suppressed);

    [LoggerMessage(2010, LogLevel.Debug, "{Client}: authenticated as {User}")]
    public static partial void Authenticated(ILogger logger, IPEndPoint client, string user);

    public static void ConnectionLimit(ILogger logger, IPEndPoint client, string limit)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 2011, out long suppressed))
        {
            ConnectionLimitLine(logger, client, limit, suppressed);
        }
    }

    [LoggerMessage(2011, LogLevel.Warning, "{Client}: connection refused: limit {Limit} reached ({Suppressed} more since the last such line)")]
    private static partial void ConnectionLimitLine(ILogger logger, IPEndPoint client, string limit, long suppressed);

    public static void AssociationLimit(ILogger logger, IPEndPoint client, string limit)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 2012, out long suppressed))
        {
            AssociationLimitLine(logger, client, limit, suppressed);
        }
    }

    [LoggerMessage(2012, LogLevel.Warning, "{Client}: UDP ASSOCIATE refused: limit {Limit} reached ({Suppressed} more since the last such line)")]
    private static partial void AssociationLimitLine(ILogger logger, IPEndPoint client, string limit, long suppressed);

    public static void ClientPortRequired(ILogger logger, IPEndPoint client, string requested)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 2014, out long suppressed))
        {
            ClientPortRequiredLine(logger, client, requested, suppressed);
        }
    }

    [LoggerMessage(2014, LogLevel.Warning,
        "{Client}: UDP ASSOCIATE refused: it named {Requested}, and Relay:RequireClientPort=true asks for the client's own address and UDP port ({Suppressed} more since the last such line)")]
    private static partial void ClientPortRequiredLine(ILogger logger, IPEndPoint client, string requested, long suppressed);

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

    public static void AssociationFailed(ILogger logger, IPEndPoint client, string reason)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 3008, out long suppressed))
        {
            AssociationFailedLine(logger, client, reason, suppressed);
        }
    }

    [LoggerMessage(3008, LogLevel.Warning, "{Client}: UDP ASSOCIATE failed: {Reason} ({Suppressed} more since the last such line)")]
    private static partial void AssociationFailedLine(ILogger logger, IPEndPoint client, string reason, long suppressed);

    public static void AssociationLoopFailed(ILogger logger, Exception exception, IPEndPoint client)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 3009, out long suppressed))
        {
            AssociationLoopFailedLine(logger, exception, client, suppressed);
        }
    }

    [LoggerMessage(3009, LogLevel.Warning, "{Client}: association loop failed ({Suppressed} more since the last such line)")]
    private static partial void AssociationLoopFailedLine(ILogger logger, Exception exception, IPEndPoint client, long suppressed);

    public static void SourceMismatch(ILogger logger, IPEndPoint client, IPAddress source, IPAddress expected)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 3010, out long suppressed))
        {
            SourceMismatchLine(logger, client, source, expected, suppressed);
        }
    }

    [LoggerMessage(3010, LogLevel.Warning,
        "{Client}: UDP datagrams for its association come from {Source}, not from its control connection's address {Expected}: dropped (RFC 1928 section 7). A NAT rewrites the TCP path but not the UDP one, e.g. a load balancer with source NAT (Kubernetes: externalTrafficPolicy Cluster); preserve the client address (Local). Logged once per association ({Suppressed} more since the last such line)")]
    private static partial void SourceMismatchLine(ILogger logger, IPEndPoint client, IPAddress source, IPAddress expected, long suppressed);

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

    public static void DestinationOpenFailed(ILogger logger, IPEndPoint client, DestinationText destination, string error)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 4004, out long suppressed))
        {
            DestinationOpenFailedLine(logger, client, destination, error, suppressed);
        }
    }

    [LoggerMessage(4004, LogLevel.Warning, "{Client}: destination {Destination} could not be opened: {Error} ({Suppressed} more since the last such line)")]
    private static partial void DestinationOpenFailedLine(ILogger logger, IPEndPoint client, DestinationText destination, string error, long suppressed);

    public static void NoOutboundPort(ILogger logger, IPEndPoint client)
    {
        if (LogRateLimiter.Admits(logger, LogLevel.Warning, 4005, out long suppressed))
        {
            NoOutboundPortLine(logger, client, suppressed);
        }
    }

    [LoggerMessage(4005, LogLevel.Warning, "{Client}: no free outbound UDP port ({Suppressed} more since the last such line)")]
    private static partial void NoOutboundPortLine(ILogger logger, IPEndPoint client, long suppressed);
}

/// <summary>Lets a destination key be a log field without formatting it unless the line is written.</summary>
internal readonly record struct DestinationText(Addressing.DestinationKey Key)
{
    public override string ToString() => Key.ToString();
}
