using System.Diagnostics;
using System.Globalization;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// Round trips per second with a flood off and on, in pairs of slices in ABBA order (quiet-flood,
/// flood-quiet, flood-quiet, quiet-flood, ...) so a drift in the machine's load hits both alike;
/// the median of the pairs' ratios is the figure, robust against a slice another process spoiled.
/// A first pair is run and not counted: the first switches find paths not yet compiled (tiered JIT)
/// on both sides.
/// </summary>
internal sealed class QuietVersusFlooded
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(200);

    private readonly List<double> _ratios = [];
    private readonly List<string> _lines = [];

    /// <summary>The median ratio of flooded to quiet round trips per second.</summary>
    public double Median
    {
        get
        {
            var sorted = _ratios.Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        }
    }

    public string Report => string.Join('\n', _lines);

    public static async Task<QuietVersusFlooded> MeasureAsync(EchoRoundTrips echoes, PacedFlood flood, int pairs)
    {
        var result = new QuietVersusFlooded();
        await SliceAsync(echoes, flood, on: false);
        await SliceAsync(echoes, flood, on: true);
        for (int pair = 0; pair < pairs; pair++)
        {
            bool floodFirst = pair % 4 is 1 or 2;
            double first = await SliceAsync(echoes, flood, floodFirst);
            double second = await SliceAsync(echoes, flood, !floodFirst);
            var (quiet, flooded) = floodFirst ? (second, first) : (first, second);
            result._ratios.Add(flooded / quiet);
            result._lines.Add(string.Create(CultureInfo.InvariantCulture, $"pair {pair}: {quiet:F0} round trips/s quiet, {flooded:F0} flooded ({flooded / quiet:P0})"));
        }

        flood.On = false;
        return result;
    }

    /// <summary>One slice: round trips per second, with the flood on or off throughout.</summary>
    private static async Task<double> SliceAsync(EchoRoundTrips echoes, PacedFlood flood, bool on)
    {
        flood.On = on;
        // No event marks the moment what the other state left in flight (queued at the client, in
        // the relay's socket buffers) has drained; a fixed settling time keeps it out of the count.
        await Task.Delay(25);
        long before = echoes.Completed;
        var clock = Stopwatch.StartNew();
        await Task.Delay(Slice);
        return (echoes.Completed - before) / clock.Elapsed.TotalSeconds;
    }
}
