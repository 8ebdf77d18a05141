using System.Diagnostics;
using System.Net;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>What a churn run measured.</summary>
internal sealed class ChurnResult
{
    private long _completed;
    private long _failed;

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    public string? FirstFailure { get; set; }

    public double Seconds { get; set; }

    public LatencyHistogram OpenToReply { get; } = new();

    public double PerSecond => Seconds > 0 ? Completed / Seconds : 0;

    public void Complete() => Interlocked.Increment(ref _completed);

    public void Fail(string reason)
    {
        Interlocked.Increment(ref _failed);
        lock (OpenToReply)
        {
            FirstFailure ??= reason;
        }
    }
}

/// <summary>
/// Association churn: <c>parallel</c> threads each open an association (TCP, greeting, UDP
/// ASSOCIATE), make one checked round trip, and close it (FIN), over and over for a fixed time.
/// Direct: a fresh UDP socket per round trip instead.
/// </summary>
internal static class Churn
{
    public static ChurnResult Run(IPEndPoint? proxy, IPEndPoint echo, int parallel, TimeSpan duration, Action? onStart = null, Action? onEnd = null)
    {
        var result = new ChurnResult { Seconds = duration.TotalSeconds };
        long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var histograms = new LatencyHistogram[parallel];
        var threads = new Thread[parallel];
        onStart?.Invoke();
        for (int t = 0; t < parallel; t++)
        {
            int index = t;
            histograms[t] = new LatencyHistogram();
            threads[t] = new Thread(() =>
            {
                int id = index * 1_000_000;
                while (Stopwatch.GetTimestamp() < end)
                {
                    long began = Stopwatch.GetTimestamp();
                    try
                    {
                        using var flow = new Flow(id++, proxy, echo, 64, window: 1, small: true);
                        flow.TrySend(Stopwatch.GetTimestamp());
                        if (flow.Socket.Poll(TimeSpan.FromSeconds(1), System.Net.Sockets.SelectMode.SelectRead))
                        {
                            flow.Drain(null, refill: false);
                        }

                        if (flow.Received == 1)
                        {
                            histograms[index].Record((long)Stopwatch.GetElapsedTime(began).TotalNanoseconds);
                            result.Complete();
                            continue;
                        }

                        result.Fail(flow.FirstInvalid ?? "no reply within 1 s");
                    }
                    catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException)
                    {
                        result.Fail(e.Message);
                    }
                }
            }) { IsBackground = true, Name = $"churn-{t}" };
            threads[t].Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        onEnd?.Invoke();
        foreach (var h in histograms)
        {
            result.OpenToReply.Add(h);
        }

        return result;
    }
}
