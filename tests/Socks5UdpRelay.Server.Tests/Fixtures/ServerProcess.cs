using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>
/// The published server as a separate process (the dll beside the tests), for what only a
/// process of its own can show: its open file descriptors, its exit code, its signals.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private ServerProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public IPEndPoint EndPoint { get; private set; } = null!;

    public IReadOnlyCollection<string> Output => _output;

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll");

    /// <summary>Starts the server with <paramref name="args"/> (port 0 is fine) and waits until it listens.</summary>
    public static async Task<ServerProcess> StartAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null)
        => await WaitUntilListeningAsync(Launch(args, environment));

    /// <summary>Starts the server from a command line of the caller's (another folder, another user) and waits until it listens.</summary>
    public static async Task<ServerProcess> StartAsync(ProcessStartInfo info) => await WaitUntilListeningAsync(Launch(info));

    private static async Task<ServerProcess> WaitUntilListeningAsync(ServerProcess server)
    {
        string line = await server.WaitForLineAsync(l => l.Contains("Listening for SOCKS5 on", StringComparison.Ordinal));
        server.EndPoint = IPEndPoint.Parse(ListeningRegex().Match(line).Groups[1].Value);
        return server;
    }

    /// <summary>Starts the server without waiting for it to listen (for start-up failures).</summary>
    public static ServerProcess Launch(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(ServerDll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return Launch(info);
    }

    /// <summary>Starts the caller's command line (output collected here) without waiting for it to listen.</summary>
    public static ServerProcess Launch(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => server.Collect(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Where the metrics endpoint listens (started with <c>--Metrics:Enabled=true</c>), from its log line.</summary>
    public async Task<IPEndPoint> WaitForMetricsAsync()
    {
        string line = await WaitForLineAsync(l => l.Contains("Metrics on http://", StringComparison.Ordinal));
        return IPEndPoint.Parse(MetricsRegex().Match(line).Groups[1].Value);
    }

    public int CountOpenFileDescriptors() => Directory.GetFiles($"/proc/{Pid}/fd").Length;

    /// <summary>The first output line (already seen or yet to come) that matches, within the test timeout.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        while (true)
        {
            var hit = _output.FirstOrDefault(match);
            if (hit is not null)
            {
                return hit;
            }

            if (_process.HasExited && _lineArrived.CurrentCount == 0)
            {
                throw new InvalidOperationException($"server exited ({_process.ExitCode}) without the line; output:\n{string.Join('\n', _output)}");
            }

            try
            {
                await _lineArrived.WaitAsync(100, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no such line within {TestTimeout.Default}; output:\n{string.Join('\n', _output)}");
            }
        }
    }

    public int CountLines(Func<string, bool> match) => _output.Count(match);

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync(new CancellationTokenSource(timeout).Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Collect(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
            _lineArrived.Release();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [GeneratedRegex(@"Listening for SOCKS5 on \\?""?([0-9A-Fa-f.:\[\]]+)")]
    private static partial Regex ListeningRegex();

    [GeneratedRegex(@"Metrics on http://([0-9.]+:[0-9]+)/")]
    private static partial Regex MetricsRegex();
}
