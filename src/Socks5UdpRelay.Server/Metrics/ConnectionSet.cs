namespace Socks5UdpRelay.Server.Metrics;

/// <summary>The HTTP endpoint's connections being answered, so its stop can wait for them (a flow stream lasts until then).</summary>
internal sealed class ConnectionSet
{
    private readonly HashSet<Task> _tasks = [];
    private readonly Lock _lock = new();

    public void Track(Task task)
    {
        lock (_lock)
        {
            _tasks.Add(task);
        }

        _ = task.ContinueWith(
            static (t, s) =>
            {
                var set = (ConnectionSet)s!;
                lock (set._lock)
                {
                    set._tasks.Remove(t);
                }
            },
            this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Connections being answered (a flow stream included).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _tasks.Count;
            }
        }
    }

    public Task WhenAllAsync()
    {
        lock (_lock)
        {
            return Task.WhenAll(_tasks);
        }
    }
}
