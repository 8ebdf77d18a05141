using System.Diagnostics;
using System.Text;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>The outcome of one finished external command.</summary>
public sealed record CommandResult(IReadOnlyList<string> Command, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    public string CommandLine => string.Join(' ', Command);
}

/// <summary>Runs short-lived external commands (ip, nft, iptables, getent) with a bound on their run time.</summary>
public static class CommandRunner
{
    /// <summary>Runs the command and returns its result whatever the exit code; throws only if it cannot start or overruns <paramref name="timeout"/>.</summary>
    public static CommandResult Run(IReadOnlyList<string> command, string? standardInput = null, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var startInfo = StartInfo(command);
        startInfo.WorkingDirectory = workingDirectory ?? string.Empty;
        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start `{string.Join(' ', command)}`.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
        }

        process.StandardInput.Close();

        var limit = timeout ?? TestTimeout.Default;
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{string.Join(' ', command)}` did not finish within {limit.TotalSeconds} s.");
        }

        // A grandchild that inherited the pipes could keep them open after the exit: bound that wait too.
        if (!Task.WaitAll([output, error], limit))
        {
            throw new TimeoutException($"`{string.Join(' ', command)}` exited but its output pipes stayed open.");
        }

        return new CommandResult(command, process.ExitCode, output.Result, error.Result);
    }

    /// <summary>How to start <paramref name="command"/> (the program found even off PATH, see <see cref="ExternalTools"/>): every stream redirected, UTF-8.</summary>
    public static ProcessStartInfo StartInfo(IReadOnlyList<string> command)
    {
        ArgumentOutOfRangeException.ThrowIfZero(command.Count);
        var startInfo = new ProcessStartInfo(ExternalTools.Resolve(command[0]))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in command.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }

    /// <summary>Runs the command and returns its standard output; throws with its standard error if it fails.</summary>
    public static string RunChecked(IReadOnlyList<string> command, string? standardInput = null, TimeSpan? timeout = null)
    {
        var result = Run(command, standardInput, timeout);
        if (!result.Succeeded)
        {
            throw new CommandFailedException(result);
        }

        return result.StandardOutput;
    }
}

/// <summary>An external command exited with a non-zero code; the message carries its standard error.</summary>
public sealed class CommandFailedException(CommandResult result)
    : Exception($"`{result.CommandLine}` exited with {result.ExitCode}: {result.StandardError.Trim()}{FormatOutput(result.StandardOutput)}")
{
    public CommandResult Result { get; } = result;

    private static string FormatOutput(string output) =>
        string.IsNullOrWhiteSpace(output) ? string.Empty : $" (stdout: {output.Trim()})";
}
