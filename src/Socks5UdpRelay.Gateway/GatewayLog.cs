using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Gateway;

/// <summary>Every log line of the gateway, with stable event ids in 6xxx.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(6001, LogLevel.Information, "TUN gateway on {Device}: UDP to {Routes} enters it")]
    public static partial void Started(ILogger logger, string device, string routes);

    [LoggerMessage(6002, LogLevel.Information, "TUN gateway on {Device} stopped; {Counters}")]
    public static partial void Stopped(ILogger logger, string device, string counters);

    [LoggerMessage(6003, LogLevel.Information, "Removed {Count} routing rules left by an earlier gateway")]
    public static partial void LeftoversRemoved(ILogger logger, int count);

    [LoggerMessage(6004, LogLevel.Warning, "Removing the gateway's routing ({Step}) failed: {Error}")]
    public static partial void RemoveFailed(ILogger logger, string step, string error);

    [LoggerMessage(6005, LogLevel.Error, "The gateway's reader stopped")]
    public static partial void ReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(6006, LogLevel.Debug, "{Flow} opened for {Program}")]
    public static partial void FlowOpened(ILogger logger, Plane.FlowId flow, string program);

    [LoggerMessage(6007, LogLevel.Debug, "{Flow} closed ({Reason})")]
    public static partial void FlowClosed(ILogger logger, Plane.FlowId flow, string reason);

    [LoggerMessage(6008, LogLevel.Debug, "{Flow}: notice not written as ICMP ({Result}): {Notice}")]
    public static partial void NoticeNotInjected(ILogger logger, Plane.FlowId flow, Notices.NoticeMappingResult result, string notice);
}
