using System.Globalization;
using System.Text.RegularExpressions;

namespace Socks5UdpRelay.Benchmarks.Gateway;

/// <summary>What one SIGUSR1 counters line of s5nc tun says, of what the benchmark needs.</summary>
internal sealed record GatewayCounters(long Sent, long Replies, long Associations, long Allocated)
{
    public static GatewayCounters Parse(string line)
    {
        // "device …; proxy flows-opened=… sent=N … replies=N … associations=N … allocated=N"
        string proxy = line[line.IndexOf("; proxy ", StringComparison.Ordinal)..];
        long Value(string key) => long.Parse(Field(key).Match(proxy).Groups[1].Value, CultureInfo.InvariantCulture);
        return new GatewayCounters(Value("sent"), Value("replies"), Value("associations"), Value("allocated"));
    }

    private static Regex Field(string key) => new($@" {key}=(\d+)");
}
