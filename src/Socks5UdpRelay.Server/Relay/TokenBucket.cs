namespace Socks5UdpRelay.Server.Relay;

/// <summary>A datagram budget: <c>rate</c> per second, up to <c>burst</c> at once. A rate of 0 never refuses.</summary>
internal struct TokenBucket(int rate, int burst, long now, long frequency)
{
    private double _tokens = burst;
    private long _stamp = now;

    public bool TryTake(long now)
    {
        if (rate == 0)
        {
            return true;
        }

        double elapsed = (now - _stamp) / (double)frequency;
        _stamp = now;
        _tokens = Math.Min(burst, _tokens + (elapsed * rate));
        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }
}
