using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary>
/// The verdicts, host by host and port by port: a table (closed ports left out unless --all) and a
/// summary on stdout, or with --json one object per port on stdout and the summary on stderr.
/// </summary>
internal sealed class ProbeReport(CliConsole console, bool all, bool json)
{
    public void Write(ProbeTargets targets, ProbeScheduler scheduler, TimeSpan elapsed, bool partial)
    {
        var rows = targets.All
            .Select((target, index) => (target, verdict: scheduler.VerdictOf(index)))
            .Where(row => row.verdict is { State: not ProbeState.Error })
            .OrderBy(row => row.target.HostIndex)
            .ThenBy(row => row.target.Port)
            .Select(row => (row.target, verdict: row.verdict!))
            .ToList();

        if (json)
        {
            foreach (var (target, verdict) in rows)
            {
                console.Out.WriteLine(ToJson(target, verdict));
            }
        }
        else
        {
            WriteTable([.. rows.Where(row => all || row.verdict.State != ProbeState.Closed)]);
        }

        string summary = Summary(targets, rows.Select(r => r.verdict).ToList(), scheduler, elapsed, partial);
        if (json)
        {
            console.Say(summary);
        }
        else
        {
            console.Out.WriteLine(summary);
        }

        console.Out.Flush();
    }

    /// <summary>Exactly the keys and order the README shows ("s5nc probe"): host, port, state, reason, from, rtt_ms.</summary>
    public static string ToJson(ProbeTarget target, ProbeVerdict verdict)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("host", target.Host);
            writer.WriteNumber("port", target.Port);
            writer.WriteString("state", verdict.State.ToText());
            writer.WriteString("reason", verdict.Reason);
            if (verdict.From is { } from)
            {
                writer.WriteString("from", from.ToString());
            }
            else
            {
                writer.WriteNull("from");
            }

            if (verdict.RoundTrip is { } rtt)
            {
                writer.WriteNumber("rtt_ms", Math.Round(rtt.TotalMilliseconds, 2));
            }
            else
            {
                writer.WriteNull("rtt_ms");
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private void WriteTable(List<(ProbeTarget Target, ProbeVerdict Verdict)> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var lines = new List<string[]> { new[] { "HOST", "PORT", "STATE", "REASON", "RTT" } };
        foreach (var (target, verdict) in rows)
        {
            string reason = verdict.From is { } from && from.ToString() != target.Host ? $"{verdict.Reason} from {from}" : verdict.Reason;
            string rtt = verdict.RoundTrip is { } t ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0.0} ms") : "-";
            lines.Add([target.Host, target.Port.ToString(CultureInfo.InvariantCulture), verdict.State.ToText(), reason, rtt]);
        }

        int[] widths = [.. Enumerable.Range(0, 5).Select(c => lines.Max(l => l[c].Length))];
        foreach (var line in lines)
        {
            var text = new StringBuilder();
            for (int c = 0; c < line.Length; c++)
            {
                text.Append(c == line.Length - 1 ? line[c] : line[c].PadRight(widths[c] + 2));
            }

            console.Out.WriteLine(text.ToString().TrimEnd());
        }
    }

    private static string Summary(ProbeTargets targets, List<ProbeVerdict> verdicts, ProbeScheduler scheduler, TimeSpan elapsed, bool partial)
    {
        int Count(ProbeState state) => verdicts.Count(v => v.State == state);
        string hosts = targets.Hosts.Count == 1 ? targets.Hosts[0] : $"{targets.Hosts.Count} hosts";
        string seconds = elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
        string what = partial ? $"{verdicts.Count} of {scheduler.Count} ports decided (stopped early)" : $"{verdicts.Count} ports";
        return $"{what} on {hosts} in {seconds} s ({scheduler.Sent} datagrams): "
            + $"{Count(ProbeState.Open)} open, {Count(ProbeState.Closed)} closed, {Count(ProbeState.Filtered)} filtered, "
            + $"{Count(ProbeState.OpenFiltered)} open|filtered.";
    }
}
