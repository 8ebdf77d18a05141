using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Tests.Hosting;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// Lines a client can cause again and again come as a burst, then about one a second per event,
/// each saying how many were not written; the counters still count every one.
/// </summary>
public sealed partial class WarningRateTests(ITestOutputHelper output)
{
    /// <summary>1 000 wrong passwords (8 clients at a time, no failure delay): a bounded number of Warning lines. Before: 1 000 lines.</summary>
    [Fact]
    public async Task ThousandWrongPasswords_BoundedWarningLines_EveryFailureCounted()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Users:0:Name"] = "alice",
            ["Auth:Users:0:PasswordHash"] = PasswordHash.Create("right", iterations: 1_000),
            ["Auth:FailureDelay"] = "00:00:00",
            ["Metrics:Enabled"] = "true",
            ["Metrics:Listen"] = "127.0.0.1:0",
        });
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            var source = IPAddress.Parse($"127.0.6.{c + 1}");
            for (int i = 0; i < 125; i++)
            {
                var (status, _) = await RawLogin.RunAsync(server.EndPoint, source, "alice", "wrong", TestTimeout.Token);
                Assert.Equal(1, status);
            }
        }));
        await Task.WhenAll(clients);
        var elapsed = clock.Elapsed;

        var lines = server.Logs.Events.Where(e => e.Message.Contains("authentication failed", StringComparison.Ordinal)).ToList();
        long reported = lines.Sum(l => Suppressed(l.Message));
        output.WriteLine($"1000 failures in {elapsed.TotalSeconds:0.0} s: {lines.Count} Warning lines, {reported} more reported as not written");
        Assert.All(lines, l => Assert.Equal(LogLevel.Warning, l.Level));
        Assert.InRange(lines.Count, LogRateLimiter.Burst, LogRateLimiter.Burst + (int)Math.Ceiling(elapsed.TotalSeconds * LogRateLimiter.PerSecond) + 1);
        Assert.True(lines.Count + reported <= 1000);
        string metrics = await RawHttp.GetAsync(server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!, "/metrics");
        Assert.Contains("socks5udprelay_auth_failures_total 1000\n", metrics);
    }

    /// <summary>
    /// After the burst, about a line a second, and each line says how many were held back since the
    /// one before: lines written plus the counts they report make every attempt.
    /// </summary>
    [Fact]
    public async Task AfterTheBurst_EachLineCountsTheOnesNotWritten()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Users:0:Name"] = "alice",
            ["Auth:Users:0:PasswordHash"] = PasswordHash.Create("right", iterations: 1_000),
            ["Auth:FailureDelay"] = "00:00:00",
        });
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < LogRateLimiter.Burst + 5; i++)
        {
            await RawLogin.RunAsync(server.EndPoint, IPAddress.Loopback, "alice", "wrong", TestTimeout.Token);
        }

        int burst = server.Logs.Events.Count(e => e.Message.Contains("authentication failed", StringComparison.Ordinal));
        Assert.InRange(burst, LogRateLimiter.Burst, LogRateLimiter.Burst + (int)Math.Ceiling(clock.Elapsed.TotalSeconds * LogRateLimiter.PerSecond));
        await Task.Delay(TimeSpan.FromSeconds(1.1)); // a token refills on the real clock: this waits for one
        await RawLogin.RunAsync(server.EndPoint, IPAddress.Loopback, "alice", "wrong", TestTimeout.Token);

        var lines = server.Logs.Events.Where(e => e.Message.Contains("authentication failed", StringComparison.Ordinal)).ToList();
        Assert.Equal(LogRateLimiter.Burst + 6, lines.Count + lines.Sum(l => Suppressed(l.Message)));
        Assert.True(Suppressed(lines[^1].Message) > 0, lines[^1].Message);
    }

    private static long Suppressed(string line) => long.Parse(SuppressedRegex().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\((\d+) more since the last such line\)")]
    private static partial Regex SuppressedRegex();
}
