using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Socks5UdpRelay.Benchmarks.Flood;

/// <summary>
/// The server's drop counters by reason and its relayed unsolicited datagrams, from its
/// <c>/metrics</c> endpoint (Prometheus text), read at the edges of a measured window.
/// </summary>
internal static partial class ServerCounters
{
    /// <summary>The key under which inbound datagrams relayed to clients are reported beside the drop reasons.</summary>
    public const string InboundRelayed = "inbound-relayed";

    public static Dictionary<string, long> Read(IPEndPoint metrics)
    {
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5_000, SendTimeout = 5_000 };
        tcp.Connect(metrics);
        tcp.Send(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n"));
        var text = new StringBuilder();
        byte[] buffer = new byte[16_384];
        int n;
        while ((n = tcp.Receive(buffer)) > 0)
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (Match m in Series().Matches(text.ToString()))
        {
            string key = m.Groups["name"].Value == "inbound" ? (m.Groups["label"].Value == "relayed" ? InboundRelayed : "") : m.Groups["label"].Value;
            if (key.Length > 0)
            {
                counts[key] = long.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return counts;
    }

    /// <summary>What grew between two readings (reasons that stayed put are left out).</summary>
    public static Dictionary<string, long> Delta(Dictionary<string, long> before, Dictionary<string, long> after)
        => after.Select(kv => (kv.Key, Value: kv.Value - before.GetValueOrDefault(kv.Key))).Where(kv => kv.Value != 0)
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>Where a started server's metrics endpoint listens, from its log line.</summary>
    public static IPEndPoint? FindEndpoint(string log) => MetricsLine().Match(log) is { Success: true } m ? IPEndPoint.Parse(m.Groups[1].Value) : null;

    [GeneratedRegex(@"^socks5udprelay_(?<name>datagrams_dropped|inbound)_total\{(?:reason|outcome)=""(?<label>[a-z-]+)""\} (?<value>\d+)", RegexOptions.Multiline)]
    private static partial Regex Series();

    [GeneratedRegex(@"Metrics on http://(\d+\.\d+\.\d+\.\d+:\d+)/metrics")]
    private static partial Regex MetricsLine();
}
