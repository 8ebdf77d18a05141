using System.Diagnostics;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Benchmarks;

/// <summary>
/// CI runs the load tool's smoke mode through the test command: it starts our server, relays
/// through it and checks every reply (length, content, source). It asserts correctness only,
/// never a timing.
/// </summary>
public sealed class LoadToolSmokeTests
{
    [Fact]
    public async Task LoadToolSmoke_RepliesArriveAndAreCorrect()
    {
        string tool = LoadToolPath();
        Assert.True(File.Exists(tool), $"the load tool is built with the solution; not found at {tool}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(tool);
        info.ArgumentList.Add("load");
        info.ArgumentList.Add("--smoke");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, output);
    }

    /// <summary>The tool's dll in the same configuration as these tests (the solution builds both).</summary>
    internal static string LoadToolPath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory); // tests/Socks5UdpRelay.Server.Tests/bin/<Configuration>/<tfm>/
        string tfm = dir.Name;
        string configuration = dir.Parent!.Name;
        var tests = dir.Parent.Parent!.Parent!.Parent!;
        return Path.Combine(tests.FullName, "Socks5UdpRelay.Benchmarks", "bin", configuration, tfm, "Socks5UdpRelay.Benchmarks.dll");
    }
}
