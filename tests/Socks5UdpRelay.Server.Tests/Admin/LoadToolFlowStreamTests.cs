using System.Diagnostics;
using System.Text.Json;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Admin;

/// <summary>
/// The load tool's flow-view comparison in miniature (README, "Flow view"): our server with idle
/// associations, measured with and without a flow stream reader, run by run. Correctness only,
/// never a timing: both targets relay every datagram intact and the reader gets events.
/// </summary>
public sealed class LoadToolFlowStreamTests
{
    [Fact]
    public async Task LoadTool_MeasuresTheSameServer_WithAndWithoutAFlowStreamReader()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[]
        {
            BuiltPrograms.LoadToolDll, "load", "--start-server", "ours", "--flow-stream", "--idle-associations", "50",
            "--workloads", "latency", "--sizes", "64", "--associations", "1", "--duration", "0.5", "--warmup", "0.1", "--runs", "2",
        })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string output = await stdout, errors = await stderr;
        Assert.True(process.ExitCode == 0, output + errors);
        var runs = output.Split('\n').Where(l => l.StartsWith("{\"kind\":\"run\"", StringComparison.Ordinal)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["ours", "ours-stream", "ours", "ours-stream"], runs.Select(r => r.GetProperty("target").GetString()));
        Assert.All(runs, r => Assert.True(r.GetProperty("replies").GetInt64() > 0 && r.GetProperty("invalid").GetInt64() == 0, r.ToString()));
        Assert.Contains("50 of 50 idle associations open", errors);
        var events = System.Text.RegularExpressions.Regex.Matches(errors, @"ours-stream: the flow stream brought (\d+) events").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, events.Count);
        Assert.All(events, n => Assert.True(n >= 1)); // the snapshot at least
        Assert.Contains("ours/ours-stream", output);
    }
}
