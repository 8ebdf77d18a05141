namespace Socks5UdpRelay.Server.Notices;

/// <summary>
/// A token bucket per notice key (destination and kind): a burst, then a steady rate. What it
/// refuses is counted per key and handed to the next notice that passes, as <c>suppressed=</c>.
/// Only the error and refusal paths call it, so a lock is fine here.
/// </summary>
internal sealed class NoticeRateLimiter<TKey>
    where TKey : notnull
{
    private const int MaxKeys = 4096;
    private readonly Dictionary<TKey, Bucket> _buckets = [];
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private readonly double _burst;

    public NoticeRateLimiter(TimeProvider time, double perSecond, int burst)
    {
        _time = time;
        _perSecond = Math.Max(0, perSecond);
        _burst = Math.Max(1, burst);
    }

    /// <summary>True when a notice for <paramref name="key"/> may go out now; <paramref name="suppressed"/> is how many were held back since the last one.</summary>
    public bool TryAcquire(TKey key, out long suppressed)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (!_buckets.TryGetValue(key, out var bucket))
            {
                if (_buckets.Count >= MaxKeys)
                {
                    _buckets.Clear(); // bounded memory beats exact counts for a client spraying destinations
                }

                bucket = new Bucket { Tokens = _burst, Stamp = now };
            }
            else
            {
                double seconds = _time.GetElapsedTime(bucket.Stamp, now).TotalSeconds;
                bucket.Tokens = Math.Min(_burst, bucket.Tokens + (seconds * _perSecond));
                bucket.Stamp = now;
            }

            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                suppressed = bucket.Suppressed;
                bucket.Suppressed = 0;
                _buckets[key] = bucket;
                return true;
            }

            bucket.Suppressed++;
            _buckets[key] = bucket;
            suppressed = bucket.Suppressed;
            return false;
        }
    }

    private struct Bucket
    {
        public double Tokens;
        public long Stamp;
        public long Suppressed;
    }
}
