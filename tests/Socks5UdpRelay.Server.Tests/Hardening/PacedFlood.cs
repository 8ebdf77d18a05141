using System.Diagnostics;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// Sends at a fixed rate while switched on (the quiet time is not caught up when it comes back
/// on), one datagram per call of the caller's send; bounded to two minutes.
/// </summary>
internal sealed class PacedFlood(int perSecond, Func<CancellationToken, ValueTask> sendOne)
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);

    private volatile bool _on;
    private long _sent;

    public bool On
    {
        get => _on;
        set => _on = value;
    }

    public long Sent => Interlocked.Read(ref _sent);

    public async Task RunAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        double since = 0; // when the flood last came on
        long sentSince = 0;
        try
        {
            while (!stop.IsCancellationRequested && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                double now = clock.Elapsed.TotalSeconds;
                if (!_on)
                {
                    (since, sentSince) = (now, 0);
                }

                if (!_on || sentSince >= (now - since) * perSecond)
                {
                    // Ahead of the rate: the next ticks' share goes out as one burst. A tick of a few
                    // milliseconds, not one: every wake-up here is CPU the measured client shares.
                    await Task.Delay(Tick, stop);
                    continue;
                }

                await sendOne(stop);
                sentSince++;
                Interlocked.Increment(ref _sent);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The test is over.
        }
    }
}
