using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Notices;

namespace Socks5UdpRelay.Server.Logging;

/// <summary>
/// Keeps lines a client can cause (failed logins, refusals, destinations that cannot be opened)
/// from flooding the log: per event, a burst, then about one line a second; each line that goes
/// out says how many of its kind were not written since the one before (README, "Security").
/// A client in a reconnect loop, or a thousand wrong passwords, cost a few lines a second, not a
/// full disk.
/// </summary>
internal sealed class LogRateLimiter
{
    /// <summary>Lines of one event written at once before the steady rate applies.</summary>
    public const int Burst = 10;

    /// <summary>Lines of one event per second after the burst.</summary>
    public const double PerSecond = 1;

    // One per logger: a server's loggers live as long as its logger factory, so every server (and
    // every test's server in one process) counts its own lines, and a dropped factory takes its
    // counts with it.
    private static readonly ConditionalWeakTable<ILogger, LogRateLimiter> PerLogger = [];

    private readonly NoticeRateLimiter<int> _buckets;

    private LogRateLimiter(TimeProvider time) => _buckets = new NoticeRateLimiter<int>(time, PerSecond, Burst);

    /// <summary>
    /// True when a line of <paramref name="eventId"/> at <paramref name="level"/> is to be written now;
    /// <paramref name="suppressed"/> is how many were held back since the last one written.
    /// </summary>
    public static bool Admits(ILogger logger, LogLevel level, int eventId, out long suppressed)
    {
        suppressed = 0;
        return logger.IsEnabled(level) && PerLogger.GetValue(logger, static _ => new LogRateLimiter(TimeProvider.System))._buckets.TryAcquire(eventId, out suppressed);
    }
}
