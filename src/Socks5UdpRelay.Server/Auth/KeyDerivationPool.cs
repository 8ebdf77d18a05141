using System.Net;
using System.Security.Cryptography;

namespace Socks5UdpRelay.Server.Auth;

/// <summary>
/// Runs password derivations on a few threads of their own, fed by a bounded queue that takes
/// clients in turns. A derivation takes about 0.1 s of CPU: on the shared thread pool, 250
/// attempts at once from one address held every pool thread, and everyone's handshakes, CONNECTs
/// and notice writes waited behind them (logins took 27 s, or failed). Here guessing can take at
/// most these threads, and at most <c>Auth:MaxQueuedDerivations</c> attempts wait; one more fails
/// at once instead of queueing without bound. The threads serve the waiting clients in turn, one
/// derivation each, so a client that always has its share waiting delays another's login by about
/// one derivation, not by its whole share. Dedicated threads rather than a limited scheduler over
/// the pool: the pool grows threads when its work blocks it, and derivations would still compete
/// with the work it exists for.
/// </summary>
internal sealed class KeyDerivationPool : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<IPAddress, Queue<Derivation>> _waiting = [];
    private readonly Queue<IPAddress> _turns = new();
    private readonly Thread[] _threads;
    private readonly UserDirectory _users;
    private readonly int _capacity;
    private int _queued;
    private int _running;
    private bool _closed;

    public KeyDerivationPool(UserDirectory users, int threads, int capacity)
    {
        _users = users;
        _capacity = capacity;
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"Password derivation {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Derivations waiting for a thread now.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Derivations under way now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>
    /// Queues a check of <paramref name="password"/> for <paramref name="client"/> (the per-client
    /// key), which this pool then owns and clears once used; false (the password cleared already)
    /// when the queue is full. The check is skipped when <paramref name="cancellationToken"/> is
    /// cancelled before a thread takes it (the handshake's deadline passed: nobody waits for the answer).
    /// </summary>
    public bool TryQueue(IPAddress client, byte[] username, byte[] password, CancellationToken cancellationToken, out Task<bool> verdict)
    {
        var derivation = new Derivation(username, password, cancellationToken);
        verdict = derivation.Result.Task;
        lock (_gate)
        {
            if (!_closed && _queued < _capacity)
            {
                if (!_waiting.TryGetValue(client, out var queue))
                {
                    _waiting[client] = queue = new Queue<Derivation>();
                    _turns.Enqueue(client);
                }

                queue.Enqueue(derivation);
                _queued++;
                Monitor.Pulse(_gate);
                return true;
            }
        }

        CryptographicOperations.ZeroMemory(password);
        return false;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }

        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>The next client's oldest derivation; null once disposed and drained.</summary>
    private Derivation? Take()
    {
        lock (_gate)
        {
            while (_queued == 0)
            {
                if (_closed)
                {
                    return null;
                }

                Monitor.Wait(_gate);
            }

            var client = _turns.Dequeue();
            var queue = _waiting[client];
            var derivation = queue.Dequeue();
            if (queue.Count > 0)
            {
                _turns.Enqueue(client); // to the back: the others' turn first
            }
            else
            {
                _waiting.Remove(client);
            }

            _queued--;
            return derivation;
        }
    }

    private void Work()
    {
        while (Take() is { } derivation)
        {
            try
            {
                if (derivation.Cancellation.IsCancellationRequested)
                {
                    derivation.Result.TrySetCanceled(derivation.Cancellation);
                    continue;
                }

                Interlocked.Increment(ref _running);
                try
                {
                    derivation.Result.TrySetResult(_users.Derive(derivation.Username, derivation.Password));
                }
                finally
                {
                    Interlocked.Decrement(ref _running);
                }
            }
            catch (Exception e)
            {
                derivation.Result.TrySetException(e);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(derivation.Password);
            }
        }
    }

    private sealed record Derivation(byte[] Username, byte[] Password, CancellationToken Cancellation)
    {
        public TaskCompletionSource<bool> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
