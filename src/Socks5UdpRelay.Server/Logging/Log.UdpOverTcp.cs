using System.Net;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Logging;

// The lines of UDP over TCP (CMD=0x05).
internal static partial class Log
{
    [LoggerMessage(3101, LogLevel.Information, "{Client}: UDP over TCP opened ({Mode})")]
    public static partial void UdpOverTcpOpened(ILogger logger, IPEndPoint client, string mode);

    [LoggerMessage(3102, LogLevel.Information, "{Client}: UDP over TCP ended by a malformed frame: {Reason}")]
    public static partial void MalformedFrame(ILogger logger, IPEndPoint client, string reason);

    [LoggerMessage(3103, LogLevel.Debug, "{Client}: UDP over TCP refused: Relay:UdpOverTcp is off")]
    public static partial void UdpOverTcpOff(ILogger logger, IPEndPoint client);

    [LoggerMessage(3104, LogLevel.Error, "{Client}: UDP over TCP ended by a fault while reading its frames")]
    public static partial void FrameReaderFault(ILogger logger, IPEndPoint client, Exception exception);
}
