using System.Globalization;
using System.Text.Json;

namespace Socks5UdpRelay.Benchmarks.Flood;

/// <summary>The side-by-side table: each case's rate without and with the flood, their ratio, and what the server counted under the flood.</summary>
internal static class FloodReport
{
    public static void Print(TextWriter w, FloodOptions o, IReadOnlyList<FloodRecord> all)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine();
        w.WriteLine($"--flood {o.Kind}: medians of {o.Load.Runs} run(s); per_s = measured replies/s without and with the flood, ratio = flood / without;");
        w.WriteLine("srv% = server CPU (one core); flood/s = flood datagrams sent per second; server counters = per second of the flooded windows (median).");
        w.WriteLine();
        w.WriteLine(string.Format(inv, "{0,-28} {1,-10} {2,5} {3,5} {4,10} {5,10} {6,6} {7,8} {8,8} {9,5} {10,5} {11,9}  {12}",
            "filtering", "workload", "size", "assoc", "per_s", "flooded", "ratio", "p50", "p50 fl.", "srv%", "fl.%", "flood/s", "server counters/s under the flood"));
        foreach (var g in all.GroupBy(r => r.Key))
        {
            var quiet = g.Where(r => !r.Flooded).ToList();
            var flooded = g.Where(r => r.Flooded).ToList();
            var f = g.First();
            double baseRate = Median(quiet, r => r.PerSecond), floodRate = Median(flooded, r => r.PerSecond);
            var counters = flooded.SelectMany(r => r.Counters.Keys).Distinct().Order(StringComparer.Ordinal)
                .Select(k => $"{k} {Median(flooded, r => r.Counters.GetValueOrDefault(k) / r.Seconds):F0}");
            w.WriteLine(string.Format(inv, "{0,-28} {1,-10} {2,5} {3,5} {4,10:F0} {5,10:F0} {6,6:F3} {7,8:F1} {8,8:F1} {9,5:F0} {10,5:F0} {11,9:F0}  {12}",
                f.Filtering, f.Workload, f.Size, f.Associations, baseRate, floodRate, floodRate / baseRate,
                Median(quiet, r => r.P50), Median(flooded, r => r.P50), Median(quiet, r => r.ServerCpuPercent), Median(flooded, r => r.ServerCpuPercent),
                Median(flooded, r => r.FloodPerSecond), string.Join(", ", counters)));
            w.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["kind"] = "flood-ratio", ["scenario"] = o.Kind, ["key"] = g.Key, ["per_second"] = Math.Round(baseRate), ["flooded_per_second"] = Math.Round(floodRate),
                ["ratio"] = Math.Round(floodRate / baseRate, 3),
            }));
        }
    }

    private static double Median(IEnumerable<FloodRecord> rs, Func<FloodRecord, double> f)
    {
        var v = rs.Select(f).Where(double.IsFinite).Order().ToList();
        return v.Count == 0 ? double.NaN : v.Count % 2 == 1 ? v[v.Count / 2] : (v[(v.Count / 2) - 1] + v[v.Count / 2]) / 2;
    }
}
