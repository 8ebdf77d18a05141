using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Socks5UdpRelay.Cli.Trace;

/// <summary>
/// A hop as a line: traceroute's own layout in text (so anything that reads <c>traceroute -n</c>
/// reads it), or one JSON object.
/// </summary>
internal static class TraceReport
{
    /// <summary>
    /// <c> 2  10.0.2.1  1.234 ms  1.101 ms  1.320 ms</c>: the TTL right-aligned in two columns; per
    /// probe <c>*</c> for silence, else the reporter (only where it differs from the previous
    /// answer's, as traceroute prints it), the round trip, and an unreachable's flag.
    /// </summary>
    public static string ToText(TraceHop hop)
    {
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{hop.Ttl,2} "));
        TraceReply? previous = null;
        foreach (var reply in hop.Probes)
        {
            if (reply is null)
            {
                line.Append(" *");
                continue;
            }

            if (previous is null || !Equals(previous.From, reply.From))
            {
                line.Append(' ').Append(reply.From?.ToString() ?? "?");
            }

            line.Append(CultureInfo.InvariantCulture, $"  {reply.RoundTrip.TotalMilliseconds:0.000} ms");
            if (reply.Flag is { } flag)
            {
                line.Append(' ').Append(flag);
            }

            previous = reply;
        }

        return line.ToString();
    }

    /// <summary>
    /// The object the README shows: <c>{"ttl":2,"from":"10.0.2.1","rtt_ms":[1.2,1.1,1.3],"kind":"ttl-exceeded"}</c>;
    /// <c>from</c> null and an rtt null for silence, <c>kind</c> <c>silence</c> when no probe was answered.
    /// </summary>
    public static string ToJson(TraceHop hop)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("ttl", hop.Ttl);
            if (hop.From is { } from)
            {
                writer.WriteString("from", from.ToString());
            }
            else
            {
                writer.WriteNull("from");
            }

            writer.WriteStartArray("rtt_ms");
            foreach (var reply in hop.Probes)
            {
                if (reply is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    writer.WriteNumberValue(Math.Round(reply.RoundTrip.TotalMilliseconds, 3));
                }
            }

            writer.WriteEndArray();
            writer.WriteString("kind", hop.Kind);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
