using System.Text.Json;

namespace Socks5UdpRelay.Benchmarks.Flood;

/// <summary>One measured window, with or without the flood: a JSON line for scripts, a cell of the table for people.</summary>
internal sealed class FloodRecord
{
    public required string Scenario { get; init; }

    public required string Filtering { get; init; }

    public required string Workload { get; init; }

    public int Size { get; init; }

    public int Associations { get; init; }

    public int Window { get; init; }

    public int Run { get; init; }

    public bool Flooded { get; init; }

    public double Seconds { get; init; }

    public long Replies { get; init; }

    public double PerSecond { get; init; }

    public double LossPercent { get; init; }

    public long Invalid { get; init; }

    public string? FirstInvalid { get; init; }

    /// <summary>Datagrams the measured flows received from sources they never sent to (admitted strangers).</summary>
    public long Unsolicited { get; init; }

    public double P50 { get; init; }

    public double P99 { get; init; }

    public double ServerCpuPercent { get; init; }

    /// <summary>Flood datagrams sent in the measured window, per second (0 without the flood).</summary>
    public double FloodPerSecond { get; init; }

    /// <summary>The server's counters that grew in the measured window: drop reasons, and <see cref="ServerCounters.InboundRelayed"/>.</summary>
    public IReadOnlyDictionary<string, long> Counters { get; init; } = new Dictionary<string, long>();

    public string Key => $"{Filtering}/{Workload}/{Size}/{Associations}";

    public string ToJson()
    {
        var d = new Dictionary<string, object?>
        {
            ["kind"] = "flood-run", ["scenario"] = Scenario, ["filtering"] = Filtering, ["workload"] = Workload, ["size"] = Size,
            ["associations"] = Associations, ["window"] = Window, ["run"] = Run, ["flooded"] = Flooded, ["seconds"] = Seconds,
            ["replies"] = Replies, ["per_second"] = Math.Round(PerSecond), ["loss_pct"] = Math.Round(LossPercent, 3), ["invalid"] = Invalid,
            ["first_invalid"] = FirstInvalid, ["unsolicited"] = Unsolicited, ["p50_us"] = Round(P50), ["p99_us"] = Round(P99),
            ["server_cpu_pct"] = Round(ServerCpuPercent), ["flood_per_second"] = Math.Round(FloodPerSecond), ["server_counters"] = Counters,
        };
        return JsonSerializer.Serialize(d);
    }

    private static double? Round(double v) => double.IsFinite(v) ? Math.Round(v, 1) : null;
}
