using System.Globalization;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>Reads one series out of the server's <c>/metrics</c> text.</summary>
internal static class PrometheusText
{
    /// <summary>The value of <paramref name="series"/> (name and labels as exported, e.g. <c>socks5udprelay_datagrams_dropped_total{reason="buffer-full"}</c>).</summary>
    public static long Value(string metrics, string series)
    {
        string? line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null
            ? throw new InvalidOperationException($"no series {series} in:\n{metrics}")
            : long.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    public static string Dropped(string reason) => $"socks5udprelay_datagrams_dropped_total{{reason=\"{reason}\"}}";
}
