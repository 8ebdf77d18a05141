using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Socks5UdpRelay.Gateway.Routing;

/// <summary>
/// Runs <c>ip</c> and <c>nft</c> as wg-quick does. A command is started from the calling thread, so
/// it runs in that thread's network namespace. Failures become one line: the command and the
/// first line of its error output.
/// </summary>
internal static class HostCommand
{
    private static readonly string[] s_directories = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"];

    /// <summary>Bounds each command: <c>ip</c> and <c>nft</c> finish in milliseconds unless the host is wedged.</summary>
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    /// <summary>Runs the tool; throws <see cref="GatewayException"/> when it cannot start, overruns, or exits non-zero.</summary>
    public static string Run(string tool, IReadOnlyList<string> arguments, string? standardInput = null)
    {
        var (exitCode, output, error) = TryRun(tool, arguments, standardInput);
        if (exitCode != 0)
        {
            throw new GatewayException($"`{Format(tool, arguments)}` failed: {FirstLine(error, exitCode)}");
        }

        return output;
    }

    /// <summary>Runs the tool and returns what happened; throws only when it cannot start or overruns.</summary>
    public static (int ExitCode, string Output, string Error) TryRun(string tool, IReadOnlyList<string> arguments, string? standardInput = null)
    {
        var path = Find(tool) ?? throw new GatewayException($"`{tool}` was not found: install {PackageOf(tool)}");
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = StartProcess(start, tool, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(s_timeout) || !Task.WaitAll([output, error], s_timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new GatewayException($"`{Format(tool, arguments)}` did not finish within {s_timeout.TotalSeconds} s");
        }

        return (process.ExitCode, output.Result, error.Result);
    }

    public static string? Find(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(s_directories)
            .Select(directory => Path.Combine(directory, tool))
            .FirstOrDefault(File.Exists);
    }

    public static string Format(string tool, IReadOnlyList<string> arguments) => string.Join(' ', [tool, .. arguments]);

    private static Process StartProcess(ProcessStartInfo start, string tool, IReadOnlyList<string> arguments)
    {
        try
        {
            return Process.Start(start) ?? throw new GatewayException($"`{Format(tool, arguments)}` could not be started");
        }
        catch (Win32Exception exception)
        {
            throw new GatewayException($"`{Format(tool, arguments)}` could not be started: {exception.Message}", exception);
        }
    }

    private static string FirstLine(string error, int exitCode)
    {
        var line = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return line ?? $"exit code {exitCode}";
    }

    private static string PackageOf(string tool) => tool switch
    {
        "ip" => "iproute2",
        "nft" => "nftables",
        _ => tool,
    };
}
