using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// The streams' one source: while at least one stream is open, every <c>Admin:StreamInterval</c>
/// it snapshots every association (<see cref="FlowReader"/>) and publishes a <see cref="FlowState"/>,
/// whatever the number of streams. Each stream then sends its own reader what changed since what
/// it last sent, when it is ready: a slow reader skips ticks instead of queueing them.
/// </summary>
internal sealed class FlowFeed(FlowReader reader, IOptions<AdminOptions> options, TimeProvider time, ILogger<FlowFeed> logger)
{
    private readonly Lock _lock = new();
    private readonly TimeSpan _interval = options.Value.StreamInterval;
    private readonly int _maxStreams = options.Value.MaxStreams;
    private FlowState _current = FlowState.Empty;
    private TaskCompletionSource<FlowState> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _run;
    private long _runStartSeq;
    private long _versions;
    private int _streams;

    public int Streams => Volatile.Read(ref _streams);

    /// <summary>The last tick published (0 before the first).</summary>
    public long CurrentSeq => Volatile.Read(ref _current).Seq;

    /// <summary>
    /// Counts a new stream in, starting the ticks for the first; false when <c>Admin:MaxStreams</c>
    /// are open. <paramref name="after"/> is the tick the stream's first state must come after
    /// (one of the current run, so never a state older than the stream's own start's run).
    /// </summary>
    public bool TryJoin(out long after)
    {
        lock (_lock)
        {
            after = 0;
            if (_streams >= _maxStreams)
            {
                return false;
            }

            if (_streams++ == 0)
            {
                _runStartSeq = _current.Seq;
                _run = new CancellationTokenSource();
                _ = TickAsync(_run.Token);
            }

            after = Math.Max(_runStartSeq, _current.Seq - 1);
            return true;
        }
    }

    /// <summary>Counts a stream out; the last one stops the ticks.</summary>
    public void Leave()
    {
        lock (_lock)
        {
            if (--_streams == 0)
            {
                _run!.Cancel(); // not disposed: the run may still be registering on its token
                _run = null;
            }
        }
    }

    /// <summary>The first state published after tick <paramref name="after"/>: the current one if it is newer, else the next.</summary>
    public async Task<FlowState> NextAsync(long after, CancellationToken cancellationToken)
    {
        while (true)
        {
            var next = Volatile.Read(ref _next); // before the current: a state published in between completes this one
            var current = Volatile.Read(ref _current);
            if (current.Seq > after)
            {
                return current;
            }

            await next.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval, time);
        try
        {
            do
            {
                try
                {
                    var snapshots = await reader.ReadAsync(reader.InIdOrder().ToList(), cancellationToken).ConfigureAwait(false);
                    Publish(snapshots, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    AdminLog.TickFailed(logger, e); // the next tick tries again
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // the last stream left
        }
    }

    private void Publish(List<Relay.AssociationSnapshot> snapshots, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return; // a run that ended: a newer one may already be publishing
            }

            var previous = _current.ById;
            var entries = new List<FlowEntry>(snapshots.Count);
            foreach (var s in snapshots)
            {
                entries.Add(previous.TryGetValue(s.Id, out var p) && SnapshotChange.Same(p.Snapshot, s) ? new FlowEntry(s, p.Version) : new FlowEntry(s, ++_versions));
            }

            Volatile.Write(ref _current, new FlowState(_current.Seq + 1, time.GetUtcNow(), entries));
            Interlocked.Exchange(ref _next, new TaskCompletionSource<FlowState>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(_current);
        }
    }
}
