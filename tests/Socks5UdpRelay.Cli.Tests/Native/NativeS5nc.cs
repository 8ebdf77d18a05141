using System.Diagnostics;

namespace Socks5UdpRelay.Cli.Tests.Native;

/// <summary>
/// s5nc published once with Native AOT (README, "Native s5nc": the one publish command), into a
/// directory of its own that is removed afterwards. Publishing takes a minute or two: the
/// tests that use it share one.
/// </summary>
public sealed class NativeS5nc : IDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    private readonly string _directory = Directory.CreateTempSubdirectory("s5nc-aot-").FullName;
    private readonly Lazy<string> _published;

    public NativeS5nc() => _published = new Lazy<string>(Publish);

    /// <summary>The native executable (published on first use).</summary>
    public string Path => _published.Value;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Publish()
    {
        string project = System.IO.Path.Combine(RepositoryRoot(), "src", "Socks5UdpRelay.Cli", "Socks5UdpRelay.Cli.csproj");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "publish", project, "-c", "Release", "-r", "linux-x64", "-o", _directory, "-nologo" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(PublishTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet publish (Native AOT) took more than {PublishTimeout}");
        }

        string output = stdout.Result + stderr.Result;
        string executable = System.IO.Path.Combine(_directory, "s5nc");
        Assert.True(process.ExitCode == 0 && File.Exists(executable), $"dotnet publish -r linux-x64 (Native AOT) failed:\n{output}");
        // A trimming or AOT warning means some code path may fail only in the native build.
        Assert.DoesNotContain("warning IL", output, StringComparison.Ordinal);
        return executable;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Socks5UdpRelay.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Socks5UdpRelay.sln not found above {AppContext.BaseDirectory}");
    }
}
