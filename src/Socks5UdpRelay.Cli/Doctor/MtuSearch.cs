namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// Stage 9's plan: a binary search for the largest payload that makes the round trip through the
/// relay to an echo responder, from a size known to work up to the largest that fits in one UDP
/// datagram with its SOCKS header. Bounded: at most <see cref="MaxSteps"/> sizes are tried.
/// </summary>
internal sealed class MtuSearch
{
    /// <summary>log2(65 535) is 16: room for that and a retry after a frag-needed notice.</summary>
    public const int MaxSteps = 20;

    private int _good;
    private int _bad;
    private int _steps;

    public MtuSearch(int knownGood, int largest)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(knownGood);
        ArgumentOutOfRangeException.ThrowIfLessThan(largest, knownGood);
        _good = knownGood;
        _bad = largest + 1;
    }

    /// <summary>The largest size that made the round trip so far.</summary>
    public int Largest => _good;

    /// <summary>The smallest size that did not, or null when every size up to the largest did.</summary>
    public int? SmallestLost { get; private set; }

    public int Steps => _steps;

    /// <summary>The next size to try, or null when the search is done (or its step budget spent).</summary>
    public int? Next()
    {
        if (_bad - _good <= 1 || _steps >= MaxSteps)
        {
            return null;
        }

        // The largest size first: most paths carry it (fragmented), and then one step is enough.
        return _steps == 0 ? _bad - 1 : _good + ((_bad - _good) / 2);
    }

    public void Report(int size, bool roundTrip)
    {
        _steps++;
        if (roundTrip)
        {
            _good = Math.Max(_good, size);
        }
        else if (size < _bad)
        {
            _bad = size;
            SmallestLost = size;
        }
    }
}
