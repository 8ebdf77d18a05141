using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// Puts a deadline, a bounded cache, the server-wide cap on lookups in flight and the family
/// preference in front of the injected resolver. Names that are not valid host names are
/// refused without a lookup, so a client cannot make the server ask its resolver for arbitrary
/// bytes. At the deadline the lookup is cancelled, not merely abandoned.
/// </summary>
internal sealed class CachingResolver
{
    private const int MaxEntries = 10_000;
    private static readonly TimeSpan NegativeCacheTime = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.OrdinalIgnoreCase);
    private readonly IDestinationResolver _inner;
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _timeout;
    private readonly bool _preferIPv6;
    private readonly LookupGate _gate;

    public CachingResolver(IDestinationResolver inner, ResolverSettings settings, TimeProvider time)
    {
        _inner = inner;
        _time = time;
        _ttl = settings.CacheTime;
        _timeout = settings.Timeout;
        _preferIPv6 = settings.PreferIPv6;
        _gate = new LookupGate(settings.MaxConcurrentLookups);
    }

    /// <summary>Lookups in flight now, server-wide.</summary>
    public int LookupsInFlight => _gate.InFlight;

    /// <summary>One address of <paramref name="host"/> (IPv4 first unless configured), or why none; <see cref="ResolveFailure.Busy"/> (not remembered) when too many lookups are in flight.</summary>
    public async ValueTask<(IPAddress? Address, ResolveFailure Failure)> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        long now = _time.GetTimestamp();
        if (_cache.TryGetValue(host, out var cached) && now < cached.ExpiresAt)
        {
            return (cached.Address, cached.Failure);
        }

        (IPAddress?, ResolveFailure) result;
        if (!IsValidHostName(host))
        {
            result = (null, ResolveFailure.NoSuchName);
        }
        else if (!_gate.TryEnter())
        {
            return (null, ResolveFailure.Busy);
        }
        else
        {
            result = await LookUpAsync(host, cancellationToken).ConfigureAwait(false);
        }

        if (_cache.Count >= MaxEntries)
        {
            _cache.Clear();
        }

        var ttl = result.Item2 == ResolveFailure.None ? _ttl : NegativeCacheTime;
        _cache[host] = new Entry(result.Item1, result.Item2, now + (long)(ttl.TotalSeconds * _time.TimestampFrequency));
        return result;
    }

    /// <summary>RFC 1123 host names: letters, digits, '-', '_' (seen in the wild), dots; labels 1..63.</summary>
    public static bool IsValidHostName(string host)
    {
        if (host.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in host.TrimEnd('.').Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (char c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_')
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>One lookup, holding a slot of the gate (taken by the caller) until the inner lookup has ended.</summary>
    private async Task<(IPAddress?, ResolveFailure)> LookUpAsync(string host, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<IPAddress[]> lookup;
        try
        {
            lookup = _inner.ResolveAsync(host, deadline.Token);
        }
        catch (Exception e)
        {
            lookup = Task.FromException<IPAddress[]>(e);
        }

        _ = lookup.ContinueWith(static (_, gate) => ((LookupGate)gate!).Exit(), _gate, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        IPAddress[] addresses;
        try
        {
            addresses = await lookup.WaitAsync(_timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return (null, ResolveFailure.Timeout);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, ResolveFailure.Timeout);
        }
        catch (SocketException e)
        {
            return (null, e.SocketErrorCode switch
            {
                SocketError.HostNotFound => ResolveFailure.NoSuchName,
                SocketError.NoData => ResolveFailure.NoAddress,
                SocketError.TryAgain => ResolveFailure.Timeout,
                _ => ResolveFailure.Failure,
            });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (null, ResolveFailure.Failure);
        }
        finally
        {
            // Stop the lookup itself, not only our wait: a resolver that honours its token (the
            // default one does) then frees its slot at the deadline.
            await deadline.CancelAsync().ConfigureAwait(false);
        }

        var usable = addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork
            || (a.AddressFamily == AddressFamily.InterNetworkV6 && Socket.OSSupportsIPv6)).ToArray();
        if (usable.Length == 0)
        {
            return (null, ResolveFailure.NoAddress);
        }

        var preferred = _preferIPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var pick = usable.FirstOrDefault(a => a.AddressFamily == preferred) ?? usable[0];
        return (pick.IsIPv4MappedToIPv6 ? pick.MapToIPv4() : pick, ResolveFailure.None);
    }

    private readonly record struct Entry(IPAddress? Address, ResolveFailure Failure, long ExpiresAt);
}
