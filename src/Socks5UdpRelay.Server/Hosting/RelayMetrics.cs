using System.Diagnostics.Metrics;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>The server's instruments (meter <c>Socks5UdpRelay</c>), readable by dotnet-counters.</summary>
internal static class RelayMetrics
{
    public const string MeterName = "Socks5UdpRelay";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Errors = Meter.CreateCounter<long>("socks5udprelay.udp.errors", description: "Errors the kernel reported for relayed datagrams, by kind");
    private static readonly KeyValuePair<string, object?>[][] ErrorTags = Enum.GetValues<UdpErrorKind>()
        .Select(k => new[] { new KeyValuePair<string, object?>("kind", k.ToWireName()) }).ToArray();

    private static readonly Counter<long> AuthFailures = Meter.CreateCounter<long>("socks5udprelay.auth.failures", description: "Failed RFC 1929 authentications");

    public static void RecordAuthFailure() => AuthFailures.Add(1);

    public static void RecordError(UdpErrorKind kind)
    {
        int i = (int)kind;
        Errors.Add(1, (uint)i < (uint)ErrorTags.Length ? ErrorTags[i] : ErrorTags[0]);
    }
}
