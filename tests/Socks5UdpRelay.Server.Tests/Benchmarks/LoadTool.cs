using System.Diagnostics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Benchmarks;

/// <summary>The load tool as CI and people run it: its own process, its exit code and what it printed, killed past a bound.</summary>
internal static class LoadTool
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> arguments, TimeSpan bound)
    {
        string tool = BuiltPrograms.LoadToolDll;
        Assert.True(File.Exists(tool), $"the load tool is built with the solution; not found at {tool}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(tool);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
