using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// The datagrams waiting for one mapping when one reader sorts them out for several receivers:
/// the reader of the relay-facing socket once an association has more than one mapping, or the
/// frame reader of a UDP-over-TCP association, posts each, and the mapping's receiver takes them.
/// Payloads are copied into pooled arrays of their own size and the receiver's wait is one reused
/// <see cref="IValueTaskSource{TResult}"/>, so a steady flow allocates nothing; a full inbox drops
/// the arriving datagram, as a full socket buffer would, and counts it.
/// </summary>
internal sealed class MappingInbox : IValueTaskSource<bool>
{
    /// <summary>Datagrams kept for a receiver that falls behind.</summary>
    public const int Capacity = 256;

    private readonly Item[] _items = new Item[Capacity];
    private readonly SourceCache _sources = new();
    private readonly Lock _gate = new();
    private ManualResetValueTaskSourceCore<bool> _wake;
    private int _head;
    private int _count;
    private bool _waiting;
    private bool _completed;
    private long _dropped;

    public MappingInbox()
    {
        // The receiver goes on off the poster's thread, which is the reader of every mapping's datagrams.
        _wake.RunContinuationsAsynchronously = true;
    }

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Copies a payload in; called by the one task that reads the relay-facing socket (or the frames) at the time.</summary>
    public void Post(ReadOnlySpan<byte> payload, in SocksAddress source)
    {
        var endpoint = _sources.Get(source);
        byte[] copy = ArrayPool<byte>.Shared.Rent(Math.Max(payload.Length, 1));
        payload.CopyTo(copy);
        bool wake;
        lock (_gate)
        {
            if (_completed || _count == Capacity)
            {
                ArrayPool<byte>.Shared.Return(copy);
                Interlocked.Increment(ref _dropped);
                return;
            }

            _items[(_head + _count) % Capacity] = new Item(copy, payload.Length, endpoint);
            _count++;
            wake = _waiting;
            _waiting = false;
        }

        if (wake)
        {
            _wake.SetResult(true);
        }
    }

    /// <summary>The next datagram, its payload copied to <paramref name="buffer"/> (truncated as <c>recv</c> does). One receiver at a time.</summary>
    /// <exception cref="ObjectDisposedException">The mapping or its association is closed.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Socks5UdpReceiveResult> ReceiveAsync(Memory<byte> buffer, object owner, CancellationToken cancellationToken)
    {
        while (true)
        {
            short version;
            lock (_gate)
            {
                if (_count > 0)
                {
                    var item = _items[_head];
                    _items[_head] = default;
                    _head = (_head + 1) % Capacity;
                    _count--;
                    int length = Math.Min(item.Length, buffer.Length);
                    item.Payload.AsSpan(0, length).CopyTo(buffer.Span);
                    ArrayPool<byte>.Shared.Return(item.Payload);
                    return new Socks5UdpReceiveResult(length, item.Source);
                }

                ObjectDisposedException.ThrowIf(_completed, owner);
                cancellationToken.ThrowIfCancellationRequested();
                _wake.Reset();
                version = _wake.Version;
                _waiting = true;
            }

            using (cancellationToken.UnsafeRegister(static s => ((MappingInbox)s!).Wake(), this))
            {
                await new ValueTask<bool>(this, version).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Ends the inbox: what is queued is dropped, and a pending or later receive throws.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            while (_count > 0)
            {
                ArrayPool<byte>.Shared.Return(_items[_head].Payload);
                _items[_head] = default;
                _head = (_head + 1) % Capacity;
                _count--;
            }
        }

        Wake();
    }

    /// <summary>Lets a waiting receiver look again (cancelled, or completed).</summary>
    private void Wake()
    {
        lock (_gate)
        {
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
        }

        _wake.SetResult(false);
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _wake.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _wake.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _wake.OnCompleted(continuation, state, token, flags);

    private readonly record struct Item(byte[] Payload, int Length, Socks5Endpoint Source);
}
