using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// Puts a deadline, a bounded cache and the family preference in front of the injected
/// resolver. Names that are not valid host names are refused without a lookup, so a client
/// cannot make the server ask its resolver for arbitrary bytes.
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

    public CachingResolver(IDestinationResolver inner, IOptions<RelayOptions> options, TimeProvider time)
    {
        _inner = inner;
        _time = time;
        _ttl = options.Value.ResolverCacheTime;
        _timeout = options.Value.ResolveTimeout;
        _preferIPv6 = options.Value.PreferIPv6;
    }

    /// <summary>One address of <paramref name="host"/> (IPv4 first unless configured), or why none.</summary>
    public async ValueTask<(IPAddress? Address, ResolveFailure Failure)> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        long now = _time.GetTimestamp();
        if (_cache.TryGetValue(host, out var cached) && now < cached.ExpiresAt)
        {
            return (cached.Address, cached.Failure);
        }

        var result = IsValidHostName(host) ? await LookUpAsync(host, cancellationToken).ConfigureAwait(false) : (null, ResolveFailure.NoSuchName);
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

    private async Task<(IPAddress?, ResolveFailure)> LookUpAsync(string host, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        IPAddress[] addresses;
        try
        {
            addresses = await _inner.ResolveAsync(host, deadline.Token).WaitAsync(_timeout, _time, deadline.Token).ConfigureAwait(false);
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
