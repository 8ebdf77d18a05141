using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>
/// Where flows get their mappings: a few taken ahead, so a new program socket does not wait for the
/// proxy (the README's "Transparent gateway"). With <c>MAP</c> they are made on a few shared
/// associations, each filled up to what the proxy allows (<c>MAP-FAILED reason=limit</c> says
/// when; 63 by default, the server's 64 less mapping 0, which the gateway leaves unused so no
/// program socket ever inherits another's port), another opened before they are full (when less
/// than a pool's worth of room is left), and one left empty for <see cref="EmptyAssociationLifetime"/> closed. Without <c>MAP</c> each mapping is a
/// whole association, as many as the proxy grants (a refused UDP ASSOCIATE says how many).
/// Thread-safe; nothing here calls into a flow while holding the pool's lock.
/// </summary>
internal sealed class MappingPool : IAsyncDisposable
{
    /// <summary>MAPs a Socks5UdpRelay server grants one association by default (64, mapping 0 included) less mapping 0.</summary>
    public const int DefaultAssociationCapacity = 63;

    /// <summary>How long an association that holds no mapping is kept (the first one always is).</summary>
    public static readonly TimeSpan EmptyAssociationLifetime = TimeSpan.FromSeconds(30);

    /// <summary>After a failed open, how long before the next try.</summary>
    public static readonly TimeSpan OpenRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>After MAP-FAILED reason=rate-limit, how long before that association is asked again.</summary>
    public static readonly TimeSpan RateLimitPause = TimeSpan.FromMilliseconds(100);

    private readonly Func<Task<UplinkAssociation>> _open;
    private readonly int _target;
    private readonly int _limit;
    private readonly UplinkCounters _counters;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<Shared> _shared = [];
    private readonly HashSet<UplinkAssociation> _own = [];
    private readonly Queue<UplinkMapping> _ready = new();
    private readonly Queue<TaskCompletionSource<UplinkMapping?>> _waiters = new();
    private readonly List<Task> _background = [];
    private int _making;
    private bool _opening;
    private long _openAfter;
    private int _ownLimit = int.MaxValue;
    private bool _disposed;

    /// <param name="open">Opens one more association (throws <see cref="Socks5Exception"/>).</param>
    /// <param name="usesMap">True: mappings by MAP on shared associations; false: one association per mapping.</param>
    /// <param name="target">Mappings to keep ready.</param>
    /// <param name="limit">At most this many associations (without MAP) or MAPs in flight and ready beyond those held.</param>
    public MappingPool(Func<Task<UplinkAssociation>> open, bool usesMap, int target, int limit, UplinkCounters counters, ILogger logger, TimeProvider time)
    {
        _open = open;
        UsesMap = usesMap;
        _target = target;
        _limit = limit;
        _counters = counters;
        _logger = logger;
        _time = time;
    }

    public bool UsesMap { get; }

    /// <summary>Associations open now.</summary>
    public int AssociationCount
    {
        get
        {
            lock (_gate)
            {
                return _shared.Count + _own.Count;
            }
        }
    }

    /// <summary>Mappings waiting to be taken.</summary>
    public int ReadyCount
    {
        get
        {
            lock (_gate)
            {
                return _ready.Count(m => !m.IsDead);
            }
        }
    }

    /// <summary>Takes over the association opened at start, and starts filling the pool.</summary>
    public void Start(UplinkAssociation first)
    {
        lock (_gate)
        {
            if (UsesMap)
            {
                _shared.Add(new Shared(first, _time.GetTimestamp()));
            }
            else
            {
                _own.Add(first);
                _ready.Enqueue(first.AttachFirstMapping());
                _counters.MappingMade();
            }
        }

        Refill();
    }

    /// <summary>A ready mapping without waiting; false when none is ready (one is then on its way).</summary>
    public bool TryTake(out UplinkMapping mapping)
    {
        bool taken;
        lock (_gate)
        {
            taken = TryDequeueReady(out mapping!);
        }

        Refill();
        return taken;
    }

    /// <summary>A mapping, waiting up to <paramref name="wait"/> for one; null when none came (the proxy unreachable or refusing, or the pool disposed).</summary>
    public async Task<UplinkMapping?> TakeAsync(TimeSpan wait)
    {
        if (TryTake(out var ready))
        {
            return ready;
        }

        var waiter = new TaskCompletionSource<UplinkMapping?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_disposed)
            {
                return null;
            }

            _waiters.Enqueue(waiter);
        }

        Refill();
        try
        {
            return await waiter.Task.WaitAsync(wait, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A mapping delivered in the same instant wins over the timeout.
            return waiter.TrySetResult(null) ? null : await waiter.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Gives back a mapping taken but never used (its flow ended first).</summary>
    public void Return(UplinkMapping mapping)
    {
        mapping.Flow = null;
        Deliver(mapping);
    }

    /// <summary>Lets a used mapping go: UNMAP, or the end of its own association.</summary>
    public void Release(UplinkMapping mapping)
    {
        mapping.Flow = null;
        if (!mapping.MarkDead())
        {
            return; // the proxy closed it already
        }

        _counters.MappingReleased();
        if (mapping.OwnsAssociation)
        {
            lock (_gate)
            {
                _own.Remove(mapping.Association);
            }

            Track(mapping.Association.DisposeAsync().AsTask());
        }
        else
        {
            mapping.Association.Unmap(mapping, e => TunLog.UnmapFailed(_logger, mapping.Association.ToString(), e.Message));
        }

        Refill();
    }

    /// <summary><c>MAP-CLOSED</c>: the proxy closed mapping <paramref name="number"/> (idle); returns it when it was held here.</summary>
    public UplinkMapping? OnMappingClosed(UplinkAssociation association, ushort number)
    {
        var mapping = association.Detach(number);
        if (mapping is null || !mapping.MarkDead())
        {
            return null;
        }

        _counters.MappingLost();
        Refill();
        return mapping;
    }

    /// <summary>The association ended at the proxy: returns its mappings that flows held (they need new ones).</summary>
    public IReadOnlyList<UplinkMapping> OnAssociationClosed(UplinkAssociation association)
    {
        lock (_gate)
        {
            _shared.RemoveAll(s => s.Association == association);
            _own.Remove(association);
        }

        var lost = new List<UplinkMapping>();
        foreach (var mapping in association.Mappings)
        {
            association.Detach(mapping.Number);
            if (mapping.MarkDead())
            {
                _counters.MappingLost();
                if (mapping.Flow is not null)
                {
                    lost.Add(mapping);
                }
            }
        }

        Track(association.DisposeAsync().AsTask());
        Refill();
        return lost;
    }

    /// <summary>Once a second: retries what waits for a retry, and closes shared associations left empty.</summary>
    public void Sweep()
    {
        long now = _time.GetTimestamp();
        List<UplinkAssociation>? retired = null;
        lock (_gate)
        {
            for (int i = _shared.Count - 1; i > 0; i--)
            {
                var shared = _shared[i];
                if (shared.Association.MappingCount > 0 || shared.Making > 0)
                {
                    shared.EmptySince = now;
                }
                else if (_time.GetElapsedTime(shared.EmptySince, now) >= EmptyAssociationLifetime && Room(except: shared) >= _target)
                {
                    // Only while the others keep a pool's worth of room: else it is the one opened ahead.
                    _shared.RemoveAt(i);
                    (retired ??= []).Add(shared.Association);
                }
            }
        }

        foreach (var association in retired ?? [])
        {
            TunLog.AssociationRetired(_logger, association.ToString());
            Track(association.DisposeAsync().AsTask());
        }

        Refill();
    }

    public async ValueTask DisposeAsync()
    {
        UplinkAssociation[] associations;
        TaskCompletionSource<UplinkMapping?>[] waiters;
        lock (_gate)
        {
            _disposed = true;
            associations = [.. _shared.Select(s => s.Association), .. _own];
            _shared.Clear();
            _own.Clear();
            _ready.Clear();
            waiters = [.. _waiters];
            _waiters.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetResult(null);
        }

        await Task.WhenAll(associations.Select(a => a.DisposeAsync().AsTask())).ConfigureAwait(false);
        Task[] background;
        lock (_background)
        {
            background = [.. _background];
        }

        await Task.WhenAll(background).ConfigureAwait(false);
    }

    /// <summary>MAPs the shared associations (but <paramref name="except"/>) can still take. Under the lock.</summary>
    private int Room(Shared? except) =>
        _shared.Where(s => s != except && !s.Paused).Sum(s => Math.Max(0, s.Capacity - s.Association.MappingCount - s.Making));

    private bool TryDequeueReady(out UplinkMapping mapping)
    {
        while (_ready.TryDequeue(out mapping!))
        {
            if (!mapping.IsDead)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A new or returned mapping: to the longest waiter, else to the ready queue.</summary>
    private void Deliver(UplinkMapping mapping)
    {
        bool orphan;
        lock (_gate)
        {
            orphan = _disposed;
            if (!orphan)
            {
                while (_waiters.TryDequeue(out var waiter))
                {
                    if (waiter.TrySetResult(mapping))
                    {
                        return;
                    }
                }

                _ready.Enqueue(mapping);
            }
        }

        if (orphan && mapping.OwnsAssociation)
        {
            Track(mapping.Association.DisposeAsync().AsTask());
        }
    }

    /// <summary>Starts whatever makes the pool whole again: MAPs on shared associations with room, or new associations.</summary>
    private void Refill()
    {
        var starts = new List<Func<Task>>();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            int ready = _ready.Count(m => !m.IsDead);
            int wanted = Math.Min(_target + _waiters.Count - ready - _making, _limit - ready - _making);
            long now = _time.GetTimestamp();
            while (wanted > 0)
            {
                if (UsesMap)
                {
                    var shared = _shared.FirstOrDefault(s => s.Association.MappingCount + s.Making < s.Capacity && !s.Paused);
                    if (shared is null)
                    {
                        if (!_opening && now >= _openAfter)
                        {
                            _opening = true;
                            starts.Add(OpenSharedAsync);
                        }

                        break;
                    }

                    shared.Making++;
                    _making++;
                    starts.Add(() => MapAsync(shared));
                }
                else
                {
                    if (_own.Count + _making >= _ownLimit || now < _openAfter)
                    {
                        break;
                    }

                    _making++;
                    starts.Add(OpenOwnAsync);
                }

                wanted--;
            }

            // The next association is opened while the others can still take a pool's worth of MAPs,
            // so a burst (a traceroute: 16 sockets at once, 90 in all) never waits for a TCP handshake.
            if (UsesMap && !_opening && now >= _openAfter && Room(except: null) < _target)
            {
                _opening = true;
                starts.Add(OpenSharedAsync);
            }
        }

        foreach (var start in starts)
        {
            Track(start());
        }
    }

    private async Task MapAsync(Shared shared)
    {
        try
        {
            var mapping = await shared.Association.MapAsync().ConfigureAwait(false);
            _counters.MappingMade();
            lock (_gate)
            {
                shared.Making--;
                _making--;
            }

            Deliver(mapping);
        }
        catch (Socks5CommandException e)
        {
            TunLog.MapRefused(_logger, shared.Association.ToString(), e.ReasonText ?? e.Answer.Line, shared.Association.MappingCount);
            bool paused = e.Reason == CommandFailureReason.RateLimit;
            lock (_gate)
            {
                shared.Making--;
                _making--;
                if (paused)
                {
                    shared.Paused = true;
                }
                else
                {
                    // limit (or anything else): this association holds what the proxy allows it.
                    shared.Capacity = Math.Max(0, shared.Association.MappingCount);
                }
            }

            if (paused)
            {
                await Task.Delay(RateLimitPause, _time).ConfigureAwait(false);
                lock (_gate)
                {
                    shared.Paused = false;
                }
            }
        }
        catch (Exception e) when (e is Socks5Exception or ObjectDisposedException)
        {
            // The association ended: OnAssociationClosed has removed it.
            lock (_gate)
            {
                shared.Making--;
                _making--;
            }
        }

        Refill();
    }

    private async Task OpenSharedAsync()
    {
        var association = await TryOpenAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _opening = false;
            if (association is not null && !_disposed)
            {
                _shared.Add(new Shared(association, _time.GetTimestamp()));
                association = null;
            }
        }

        if (association is not null)
        {
            await association.DisposeAsync().ConfigureAwait(false);
        }

        Refill();
    }

    private async Task OpenOwnAsync()
    {
        var association = await TryOpenAsync().ConfigureAwait(false);
        UplinkMapping? mapping = null;
        lock (_gate)
        {
            _making--;
            if (association is not null && !_disposed)
            {
                _own.Add(association);
                mapping = association.AttachFirstMapping();
            }
        }

        if (mapping is not null)
        {
            _counters.MappingMade();
            Deliver(mapping);
        }
        else if (association is not null)
        {
            await association.DisposeAsync().ConfigureAwait(false);
        }

        Refill();
    }

    private async Task<UplinkAssociation?> TryOpenAsync()
    {
        try
        {
            var association = await _open().ConfigureAwait(false);
            TunLog.AssociationOpened(_logger, association.ToString());
            return association;
        }
        catch (Socks5Exception e)
        {
            lock (_gate)
            {
                _openAfter = _time.GetTimestamp() + (long)(OpenRetryDelay.TotalSeconds * _time.TimestampFrequency);
                if (!UsesMap && e.Kind == Socks5ErrorKind.Refused && _own.Count > 0 && _ownLimit == int.MaxValue)
                {
                    // Refused while others stand: the proxy's limit on associations (ours: Limits:MaxAssociationsPerClient).
                    _ownLimit = _own.Count;
                    TunLog.AssociationLimit(_logger, _own.Count + 1, e.Message, _ownLimit);
                    return null;
                }
            }

            TunLog.OpenFailed(_logger, e.Message, OpenRetryDelay.TotalSeconds);
            return null;
        }
    }

    private void Track(Task task)
    {
        lock (_background)
        {
            _background.RemoveAll(t => t.IsCompleted);
            _background.Add(task);
        }
    }

    /// <summary>A shared association and what is being made on it.</summary>
    private sealed class Shared(UplinkAssociation association, long now)
    {
        public UplinkAssociation Association { get; } = association;

        public int Capacity { get; set; } = DefaultAssociationCapacity;

        public int Making { get; set; }

        /// <summary>True for a moment after MAP-FAILED reason=rate-limit.</summary>
        public bool Paused { get; set; }

        public long EmptySince { get; set; } = now;
    }
}
