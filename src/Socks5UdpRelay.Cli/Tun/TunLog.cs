using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>Every log line of <c>s5nc tun</c>'s SOCKS side, with stable event ids in 7xxx (the gateway library's are 6xxx).</summary>
internal static partial class TunLog
{
    [LoggerMessage(7001, LogLevel.Information, "tun {Device}: UDP to {Routes} goes through proxy {Proxy} ({Mode}); Ctrl-C to stop")]
    public static partial void Running(ILogger logger, string device, string routes, string proxy, string mode);

    [LoggerMessage(7002, LogLevel.Warning, "the proxy does not offer MAP (its greeting lists commands={Commands}): one association per program socket, each a TCP connection")]
    public static partial void NoMap(ILogger logger, string commands);

    [LoggerMessage(7003, LogLevel.Warning, "the proxy sends no notices (not a Socks5UdpRelay server, or Relay:Notices=off): ICMP errors (refused ports, unreachables, traceroute hops, path MTU) cannot be reported to programs; UDP is still relayed, one association per program socket")]
    public static partial void NoNotices(ILogger logger);

    [LoggerMessage(7004, LogLevel.Warning, "the proxy does not offer SET: datagrams sent with a TTL below the default (traceroute, tracepath) leave the proxy with its default TTL")]
    public static partial void NoSet(ILogger logger);

    [LoggerMessage(7005, LogLevel.Warning, "{MaxFlows} program sockets hold mappings (--max-flows): datagrams from new sockets are dropped until one is released")]
    public static partial void CapReached(ILogger logger, int maxFlows);

    [LoggerMessage(7006, LogLevel.Information, "below --max-flows again: {Dropped} datagrams from new program sockets were dropped meanwhile")]
    public static partial void CapLeft(ILogger logger, long dropped);

    [LoggerMessage(7007, LogLevel.Warning, "{Association} ended ({Reason}); {Flows} program sockets move to new mappings")]
    public static partial void AssociationLost(ILogger logger, string association, string reason, int flows);

    [LoggerMessage(7008, LogLevel.Warning, "could not open an association: {Error}; trying again in {Seconds} s")]
    public static partial void OpenFailed(ILogger logger, string error, double seconds);

    [LoggerMessage(7009, LogLevel.Warning, "the proxy refused association {Count}: {Error}; at most {Limit} program sockets at once through it")]
    public static partial void AssociationLimit(ILogger logger, int count, string error, int limit);

    [LoggerMessage(7010, LogLevel.Debug, "{Flow} uses {Mapping}, outbound port {Port}")]
    public static partial void FlowMapped(ILogger logger, string flow, string mapping, ushort port);

    [LoggerMessage(7011, LogLevel.Debug, "{Flow} released {Mapping} ({Reason})")]
    public static partial void FlowReleased(ILogger logger, string flow, string mapping, string reason);

    [LoggerMessage(7012, LogLevel.Debug, "{Flow}: SET ttl={Ttl} for {Destination} failed: {Error}")]
    public static partial void SetFailed(ILogger logger, string flow, int ttl, string destination, string error);

    [LoggerMessage(7013, LogLevel.Debug, "{Association}: {Notice}")]
    public static partial void NoticeReceived(ILogger logger, string association, string notice);

    [LoggerMessage(7014, LogLevel.Warning, "{Association}: {Notice} (the proxy sees our datagrams from another address than the control connection: a NAT rewrites one of them)")]
    public static partial void SourceMismatch(ILogger logger, string association, string notice);

    [LoggerMessage(7015, LogLevel.Debug, "{Flow}: no mapping within {Seconds} s; {Dropped} datagrams dropped")]
    public static partial void NoMapping(ILogger logger, string flow, double seconds, int dropped);

    [LoggerMessage(7016, LogLevel.Debug, "UNMAP on {Association} failed: {Error}")]
    public static partial void UnmapFailed(ILogger logger, string association, string error);

    [LoggerMessage(7017, LogLevel.Error, "{Flow}: sending its queued datagrams failed")]
    public static partial void PumpFailed(ILogger logger, string flow, Exception exception);

    [LoggerMessage(7018, LogLevel.Debug, "{Association} opened")]
    public static partial void AssociationOpened(ILogger logger, string association);

    [LoggerMessage(7019, LogLevel.Debug, "{Association} holds no mapping and is closed")]
    public static partial void AssociationRetired(ILogger logger, string association);

    [LoggerMessage(7020, LogLevel.Debug, "MAP on {Association} refused ({Reason}); it holds {Count}")]
    public static partial void MapRefused(ILogger logger, string association, string reason, int count);

    [LoggerMessage(7021, LogLevel.Information, "counters: {Counters}")]
    public static partial void Counters(ILogger logger, string counters);
}
