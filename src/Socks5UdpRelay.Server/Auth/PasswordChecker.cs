using System.Net;
using System.Security.Cryptography;

namespace Socks5UdpRelay.Server.Auth;

/// <summary>
/// An RFC 1929 login's verdict: a recent success recognised at once; otherwise a derivation on
/// <see cref="KeyDerivationPool"/>, at most <c>Auth:MaxConcurrentAttemptsPerClient</c> at a time
/// per client, so one address spraying passwords holds a few places in the queue, not all of them.
/// </summary>
internal sealed class PasswordChecker(UserDirectory users, KeyDerivationPool pool, int maxPerClient)
{
    private readonly Dictionary<IPAddress, int> _inFlight = [];
    private readonly Lock _lock = new();

    /// <summary>
    /// Checks a login from <paramref name="client"/> (the per-client key: an IPv6 client by its
    /// network). Takes <paramref name="password"/> over and clears it once it is no longer needed.
    /// </summary>
    public async Task<LoginVerdict> CheckAsync(IPAddress client, byte[] username, byte[] password, CancellationToken cancellationToken)
    {
        if (users.Recall(username, password))
        {
            CryptographicOperations.ZeroMemory(password);
            return LoginVerdict.Accepted;
        }

        if (!TryEnter(client))
        {
            CryptographicOperations.ZeroMemory(password);
            return LoginVerdict.TooManyAtOnce;
        }

        if (!pool.TryQueue(client, username, password, cancellationToken, out var verdict))
        {
            Leave(client);
            return LoginVerdict.QueueFull;
        }

        // The client's place is given back when the derivation itself ends (or is skipped), not when
        // the handshake stops waiting for it at its deadline: a client that gives up early cannot
        // have more derivations under way than its share.
        _ = verdict.ContinueWith(_ => Leave(client), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return await verdict.WaitAsync(cancellationToken).ConfigureAwait(false) ? LoginVerdict.Accepted : LoginVerdict.Rejected;
    }

    private bool TryEnter(IPAddress client)
    {
        lock (_lock)
        {
            int now = _inFlight.GetValueOrDefault(client);
            if (now >= maxPerClient)
            {
                return false;
            }

            _inFlight[client] = now + 1;
            return true;
        }
    }

    private void Leave(IPAddress client)
    {
        lock (_lock)
        {
            int left = _inFlight.GetValueOrDefault(client) - 1;
            if (left > 0)
            {
                _inFlight[client] = left;
            }
            else
            {
                _inFlight.Remove(client);
            }
        }
    }
}
