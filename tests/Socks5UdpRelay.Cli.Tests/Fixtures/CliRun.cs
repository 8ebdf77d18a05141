using System.Diagnostics;
using System.Text;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>The outcome of one s5nc run.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public byte[] RawStdout { get; init; } = [];

    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.00} s\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

/// <summary>Runs s5nc in process (fast) or as a real process (exit codes, stdin EOF, signals).</summary>
internal static class CliRun
{
    public static async Task<CliResult> InProcessAsync(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var clock = Stopwatch.StartNew();
        // An empty environment: SOCKS5_PROXY or SOCKS5_PASSWORD of whoever runs the tests must not leak in.
        int exit = await Cli.RunAsync(args, new StringReader(stdin), output, error, new Dictionary<string, string>(), TestTimeout.Token).Within();
        return new CliResult(exit, output.ToString(), error.ToString(), clock.Elapsed);
    }

    public static string S5ncDll => Path.Combine(AppContext.BaseDirectory, "s5nc.dll");

    /// <summary>Runs <c>dotnet s5nc.dll</c>; stdin is written and closed (EOF) at once.</summary>
    public static Task<CliResult> ProcessAsync(byte[] stdin, IDictionary<string, string>? environment, params string[] args)
        => ExecutableAsync("dotnet", [S5ncDll, .. args], stdin, environment);

    /// <summary>Runs <paramref name="executable"/> (the native s5nc, say); stdin is written and closed (EOF) at once.</summary>
    public static async Task<CliResult> ExecutableAsync(string executable, string[] args, byte[] stdin, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("SOCKS5_PROXY");
        info.Environment.Remove("SOCKS5_PASSWORD");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var readErr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(stdin);
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(TestTimeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"s5nc {string.Join(' ', args)} did not exit within {TestTimeout.Default}.");
        }

        await Task.WhenAll(copyOut, readErr).Within();
        return new CliResult(process.ExitCode, Encoding.Latin1.GetString(stdout.ToArray()), await readErr, clock.Elapsed) { RawStdout = stdout.ToArray() };
    }
}
