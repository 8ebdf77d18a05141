using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Metrics;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>How notices are written: switched on or off, how many lines wait for a slow reader, how fast each kind may repeat.</summary>
internal sealed record NoticeSettings(bool Enabled, int QueueLength, double PerSecond, int Burst);

/// <summary>Makes the notice side of each association: the writer on its control connection, and the router that feeds it.</summary>
internal sealed class NoticeService(NoticeSettings settings, RelayMetrics metrics, TimeProvider time, ILoggerFactory loggers)
{
    /// <summary>
    /// A small send buffer bounds the kernel's memory for a client that never reads (Linux would
    /// otherwise grow it to megabytes); 16 KiB holds a burst of ~180 lines.
    /// </summary>
    private const int SendBufferSize = 16 * 1024;

    private readonly ILogger _logger = loggers.CreateLogger("Socks5UdpRelay.Udp");

    public bool Enabled => settings.Enabled;

    /// <summary>
    /// Readies <paramref name="control"/> for notices and returns their writer. Notices are small
    /// lines that should leave at once (no Nagle), written without blocking from the relay's
    /// thread, so a client that stops reading stalls nothing. Throws when the connection is
    /// already gone, before anything else is opened for it.
    /// </summary>
    public NoticeWriter OpenWriter(Socket control)
    {
        control.NoDelay = true;
        control.Blocking = false;
        control.SendBufferSize = SendBufferSize;
        return new NoticeWriter(control, settings.QueueLength, settings.Enabled);
    }

    public NoticeRouter CreateRouter(INoticeSink writer, AssociationCounters counters, IPEndPoint peer)
        => new(writer, new NoticeRateLimiter<NoticeKey>(time, settings.PerSecond, settings.Burst), counters, metrics, _logger, peer);
}
