using System.Text.Json;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>One line of <c>probe --json</c>, parsed strictly: exactly the README's keys, in its order.</summary>
internal sealed record ProbeLine(string Host, int Port, string State, string Reason, string? From, double? RttMs)
{
    private static readonly string[] Keys = ["host", "port", "state", "reason", "from", "rtt_ms"];

    public static IReadOnlyList<ProbeLine> ParseAll(string stdout)
        => [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Parse)];

    public static ProbeLine Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        Assert.Equal(Keys, root.EnumerateObject().Select(p => p.Name).ToArray());
        return new ProbeLine(
            root.GetProperty("host").GetString()!,
            root.GetProperty("port").GetInt32(),
            root.GetProperty("state").GetString()!,
            root.GetProperty("reason").GetString()!,
            root.GetProperty("from").ValueKind == JsonValueKind.Null ? null : root.GetProperty("from").GetString(),
            root.GetProperty("rtt_ms").ValueKind == JsonValueKind.Null ? null : root.GetProperty("rtt_ms").GetDouble());
    }
}
