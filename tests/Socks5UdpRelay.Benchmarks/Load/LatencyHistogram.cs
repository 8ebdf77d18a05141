using System.Numerics;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// Round-trip times in nanoseconds, log-linear buckets (128 per power of two, under 1 % error),
/// fixed size, so recording allocates nothing and costs a few instructions.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 7;
    private const int Sub = 1 << SubBits;
    private readonly long[] _counts = new long[64 * Sub];
    private long _max;

    public long Count { get; private set; }

    public void Record(long nanoseconds)
    {
        if (nanoseconds < 0)
        {
            nanoseconds = 0;
        }

        _counts[Index(nanoseconds)]++;
        Count++;
        if (nanoseconds > _max)
        {
            _max = nanoseconds;
        }
    }

    public void Reset()
    {
        Array.Clear(_counts);
        Count = 0;
        _max = 0;
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        _max = Math.Max(_max, other._max);
    }

    public double MaxMicroseconds => _max / 1000.0;

    /// <summary>The value at <paramref name="quantile"/> (0..1) in microseconds; NaN when empty.</summary>
    public double Percentile(double quantile)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(Value(i), _max) / 1000.0;
            }
        }

        return _max / 1000.0;
    }

    private static int Index(long v)
    {
        if (v < 2 * Sub)
        {
            return (int)v;
        }

        int shift = (63 - BitOperations.LeadingZeroCount((ulong)v)) - SubBits;
        return ((shift + 1) * Sub) + (int)(v >> shift) - Sub;
    }

    /// <summary>The middle of bucket <paramref name="index"/>.</summary>
    private static double Value(int index)
    {
        if (index < 2 * Sub)
        {
            return index;
        }

        int shift = (index / Sub) - 1;
        long low = (long)((index % Sub) + Sub) << shift;
        return low + ((1L << shift) / 2.0);
    }
}
