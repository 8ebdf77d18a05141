using System.Net;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>The flow view's log lines, event ids 6xxx. No line carries the token or a request's headers.</summary>
internal static partial class AdminLog
{
    [LoggerMessage(6001, LogLevel.Information, "Flow view on http://{Endpoint}/ (bearer token {Source})")]
    public static partial void Listening(ILogger logger, IPEndPoint endpoint, string source);

    [LoggerMessage(6002, LogLevel.Warning, "Flow view: refused {Client} {Method} {Path}: {Reason} ({Suppressed} more refusals not logged since the last line)")]
    public static partial void Refused(ILogger logger, IPEndPoint client, string method, string path, string reason, long suppressed);

    [LoggerMessage(6003, LogLevel.Information, "Association {Id} (user {User}) ended by an operator from {Client}")]
    public static partial void Ended(ILogger logger, long id, string user, IPEndPoint client);

    [LoggerMessage(6004, LogLevel.Debug, "Flow stream for {Client} opened ({Streams} open)")]
    public static partial void StreamOpened(ILogger logger, IPEndPoint client, int streams);

    [LoggerMessage(6005, LogLevel.Debug, "Flow stream for {Client} closed")]
    public static partial void StreamClosed(ILogger logger, IPEndPoint client);

    [LoggerMessage(6006, LogLevel.Warning, "Flow stream for {Client} refused: Admin:MaxStreams ({Max}) are open")]
    public static partial void StreamRefused(ILogger logger, IPEndPoint client, int max);

    [LoggerMessage(6007, LogLevel.Warning, "Flow view: taking the associations' snapshots failed")]
    public static partial void TickFailed(ILogger logger, Exception exception);
}
