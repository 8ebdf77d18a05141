using System.Text.Json;
using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// The flow view's JSON (README, "Flow view", has the shape): written field by field, so the shape
/// is the one documented and nothing is reflected over. Durations are seconds to the millisecond,
/// relative to the snapshot's <c>at</c>; endpoints are text as in notices.
/// </summary>
internal static class FlowJson
{
    /// <summary>Strings are escaped for HTML too (the default encoder): a destination is whatever a client named.</summary>
    public static readonly JsonWriterOptions Options = new() { Indented = false };

    public static void WriteAssociation(Utf8JsonWriter w, AssociationSnapshot s)
    {
        w.WriteStartObject();
        w.WriteNumber("id", s.Id);
        WriteStringOrNull(w, "user", s.User);
        w.WriteString("controlPeer", s.ControlPeer.ToString());
        WriteStringOrNull(w, "clientUdp", s.ClientUdp?.ToString());
        w.WriteString("relay", s.Relay.ToString());
        int outbound = s.Mappings.FirstOrDefault(m => m.Number == 0)?.OutboundPort ?? 0;
        if (outbound > 0)
        {
            w.WriteNumber("outboundPort", outbound);
        }
        else
        {
            w.WriteNull("outboundPort");
        }

        w.WriteString("mode", s.Mode);
        w.WriteString("filtering", s.Filtering);
        WriteSeconds(w, "ageSeconds", s.Age);
        WriteSeconds(w, "idleLeftSeconds", s.IdleTimeLeft);
        WriteTraffic(w, "fromClient", s.DatagramsFromClient, s.BytesFromClient);
        WriteTraffic(w, "toClient", s.DatagramsToClient, s.BytesToClient);
        w.WriteNumber("inboundRelayed", s.InboundRelayed);
        w.WriteStartObject("drops");
        foreach (var (reason, count) in s.Drops.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            w.WriteNumber(reason, count);
        }

        w.WriteEndObject();
        w.WriteStartArray("mappings");
        foreach (var m in s.Mappings)
        {
            w.WriteStartObject();
            w.WriteNumber("map", m.Number);
            w.WriteNumber("outboundPort", m.OutboundPort);
            w.WriteNumber("knownAddresses", m.KnownAddresses);
            w.WriteNumber("destinations", m.Destinations.Count);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("destinations");
        foreach (var m in s.Mappings)
        {
            foreach (var d in m.Destinations)
            {
                WriteDestination(w, m.Number, d);
            }
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteDestination(Utf8JsonWriter w, int map, DestinationSnapshot d)
    {
        w.WriteStartObject();
        w.WriteNumber("map", map);
        w.WriteString("destination", d.Destination);
        w.WriteString("address", d.Address);
        WriteNumberOrNull(w, "ttl", d.Ttl);
        WriteTraffic(w, "sent", d.DatagramsSent, d.BytesSent);
        WriteTraffic(w, "received", d.DatagramsReceived, d.BytesReceived);
        WriteSeconds(w, "lastSeenSeconds", d.LastSeen);
        if (d.LastError is not { } e)
        {
            w.WriteNull("lastError");
        }
        else
        {
            w.WriteStartObject("lastError");
            w.WriteString("kind", e.Kind);
            w.WriteString("errno", e.Errno);
            // "icmp 3/3" or "icmp6 1/4" → the notice's own key and value (README, "Notices").
            string[] icmp = e.Icmp?.Split(' ', 2) ?? [];
            if (icmp.Length == 2)
            {
                w.WriteString(icmp[0], icmp[1]);
            }

            WriteStringOrNull(w, "from", e.From);
            WriteNumberOrNull(w, "mtu", e.Mtu);
            WriteNumberOrNull(w, "receivedTtl", e.ReceivedTtl);
            WriteSeconds(w, "agoSeconds", e.Ago);
            w.WriteNumber("count", e.Count);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    /// <summary>The snapshot's time, UTC to the millisecond.</summary>
    public static void WriteAt(Utf8JsonWriter w, DateTimeOffset at) => w.WriteString("at", at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));

    private static void WriteTraffic(Utf8JsonWriter w, string name, long datagrams, long bytes)
    {
        w.WriteStartObject(name);
        w.WriteNumber("datagrams", datagrams);
        w.WriteNumber("bytes", bytes);
        w.WriteEndObject();
    }

    private static void WriteSeconds(Utf8JsonWriter w, string name, TimeSpan? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, Math.Round(v.TotalSeconds, 3));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
