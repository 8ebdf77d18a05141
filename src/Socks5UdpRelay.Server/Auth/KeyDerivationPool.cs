using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Socks5UdpRelay.Server.Auth;

/// <summary>
/// Runs password derivations on a few threads of their own, fed by a bounded queue. A derivation
/// takes about 0.1 s of CPU: on the shared thread pool, 250 attempts at once from one address held
/// every pool thread, and everyone's handshakes, CONNECTs and notice writes waited behind them
/// (logins took 17 s, or failed). Here guessing can take at most these threads, and at most
/// <c>Auth:MaxQueuedDerivations</c> attempts wait; one more fails at once instead of queueing
/// without bound. Dedicated threads rather than a limited scheduler over the pool: the pool grows
/// threads when its work blocks it, and derivations would still compete with the work it exists for.
/// </summary>
internal sealed class KeyDerivationPool : IDisposable
{
    private readonly BlockingCollection<Derivation> _queue;
    private readonly Thread[] _threads;
    private readonly UserDirectory _users;
    private int _running;

    public KeyDerivationPool(UserDirectory users, int threads, int capacity)
    {
        _users = users;
        _queue = new BlockingCollection<Derivation>(new ConcurrentQueue<Derivation>(), capacity);
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"Password derivation {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Derivations waiting for a thread now.</summary>
    public int Queued => _queue.Count;

    /// <summary>Derivations under way now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>
    /// Queues a check of <paramref name="password"/>, which this pool then owns and clears once used;
    /// false (the password cleared already) when the queue is full. The check is skipped when
    /// <paramref name="cancellationToken"/> is cancelled before a thread takes it (the handshake's
    /// deadline passed: nobody waits for the answer).
    /// </summary>
    public bool TryQueue(byte[] username, byte[] password, CancellationToken cancellationToken, out Task<bool> verdict)
    {
        var derivation = new Derivation(username, password, cancellationToken);
        verdict = derivation.Result.Task;
        try
        {
            if (_queue.TryAdd(derivation))
            {
                return true;
            }
        }
        catch (InvalidOperationException)
        {
            // Disposed: the server is stopping.
        }

        CryptographicOperations.ZeroMemory(password);
        return false;
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(1));
        }
    }

    private void Work()
    {
        foreach (var derivation in _queue.GetConsumingEnumerable())
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
