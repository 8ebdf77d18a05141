using System.Globalization;
using System.Net;

namespace Socks5UdpRelay.Cli.Tests.Trace;

/// <summary>
/// The hop list of traceroute's text output (<c>traceroute -n</c>), which <c>s5nc trace</c> prints
/// in the same layout, so one reader serves both: per hop line its TTL and first reporter
/// (null for <c>* * *</c>). The header line, and anything else not starting with a TTL, is skipped.
/// </summary>
internal static class TracerouteHops
{
    public static IReadOnlyList<(int Ttl, string? Reporter)> Parse(string output)
    {
        var hops = new List<(int, string?)>();
        foreach (string line in output.Split('\n'))
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || !int.TryParse(words[0], NumberStyles.None, CultureInfo.InvariantCulture, out int ttl))
            {
                continue;
            }

            hops.Add((ttl, words.Skip(1).FirstOrDefault(w => IPAddress.TryParse(w, out _))));
        }

        return hops;
    }
}
