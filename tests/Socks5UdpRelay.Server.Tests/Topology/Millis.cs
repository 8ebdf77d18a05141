using System.Diagnostics;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>Times from one stopwatch, for the figures a scale-out run prints.</summary>
internal static class Millis
{
    public static double Since(long timestamp) => Stopwatch.GetElapsedTime(timestamp).TotalMilliseconds;

    public static string Summary(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0
            ? "none"
            : FormattableString.Invariant($"min {sorted[0]:F1} ms, median {sorted[sorted.Length / 2]:F1} ms, max {sorted[^1]:F1} ms");
    }
}
