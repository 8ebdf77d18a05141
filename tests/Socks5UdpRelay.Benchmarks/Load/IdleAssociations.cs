using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// N associations held open and idle, each with one destination (one checked round trip to the
/// echo target), opened by <paramref name="parallel"/> threads: the background of <c>scale</c>
/// and of <c>load --idle-associations</c>.
/// </summary>
internal sealed class IdleAssociations : IDisposable
{
    private readonly Flow?[] _flows;

    private IdleAssociations(Flow?[] flows, IReadOnlyCollection<string> failures, TimeSpan openTime)
    {
        _flows = flows;
        Failures = failures;
        OpenTime = openTime;
    }

    /// <summary>How many are open with their round trip done.</summary>
    public int Open => _flows.Count(f => f is { Received: 1 });

    public IReadOnlyCollection<string> Failures { get; }

    public TimeSpan OpenTime { get; }

    public static IdleAssociations Start(IPEndPoint proxy, IPEndPoint echo, int count, int parallel, TimeSpan deadline)
    {
        var flows = new Flow?[count];
        var failures = new ConcurrentQueue<string>();
        int next = -1;
        var watch = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, parallel).Select(_ => new Thread(() =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count && watch.Elapsed < deadline)
            {
                try
                {
                    var f = new Flow(i, proxy, echo, 64, window: 1, small: true);
                    flows[i] = f;
                    f.TrySend(Stopwatch.GetTimestamp());
                    if (f.Socket.Poll(TimeSpan.FromSeconds(2), SelectMode.SelectRead))
                    {
                        f.Drain(null, refill: false);
                    }

                    if (f.Received != 1)
                    {
                        failures.Enqueue($"association {i}: {f.FirstInvalid ?? "no reply within 2 s"}");
                    }
                }
                catch (Exception e) when (e is SocketException or InvalidOperationException)
                {
                    failures.Enqueue($"association {i}: {e.Message}");
                }
            }
        }) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return new IdleAssociations(flows, failures, watch.Elapsed);
    }

    public void Dispose()
    {
        foreach (var f in _flows)
        {
            f?.Dispose();
        }
    }
}
