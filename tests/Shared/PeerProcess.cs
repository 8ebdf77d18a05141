using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Socks5UdpRelay.Tests.Shared;

/// <summary>
/// An independent program (a peer SOCKS server, a STUN server) run unmodified on loopback for a
/// test, with a temporary folder for its configuration. Its output is captured for failure
/// messages. Start-up waits, bounded, until the program serves (<see cref="StartAsync"/>'s ready
/// check). Dispose kills it by pid, and also the processes it left behind when it daemonizes
/// (found by the unique folder on their command line), then deletes the folder.
/// </summary>
public sealed class PeerProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyPoll = TimeSpan.FromMilliseconds(20);

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private PeerProcess(Process process, string directory)
    {
        _process = process;
        Directory = directory;
    }

    /// <summary>The temporary folder: configuration files go here; it is on the program's command line.</summary>
    public string Directory { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>A new temporary folder for a program's configuration; <see cref="StartAsync"/> takes it over.</summary>
    public static string NewDirectory(string name) => System.IO.Directory.CreateTempSubdirectory($"s5-{name}-").FullName;

    /// <summary>
    /// Starts <paramref name="program"/> with <paramref name="arguments"/> (which should name a file
    /// in <paramref name="directory"/>, so a daemonized child can be found) and waits until
    /// <paramref name="ready"/> says it serves.
    /// </summary>
    public static async Task<PeerProcess> StartAsync(string program, IEnumerable<string> arguments, string directory, Func<Task<bool>> ready)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var peer = new PeerProcess(process, directory);
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (peer._log)
                {
                    peer._log.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += onLine;
        process.OutputDataReceived += onLine;
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            // No program here tells when it listens in a way that can be awaited (some daemonize,
            // some buffer their output), so the check is polled, bounded in time.
            var clock = Stopwatch.StartNew();
            while (!await ready())
            {
                if (clock.Elapsed > TestTimeout.Default)
                {
                    throw new TimeoutException($"{program} did not serve within {TestTimeout.Default.TotalSeconds} s.");
                }

                await Task.Delay(ReadyPoll);
            }
        }
        catch (Exception e)
        {
            await peer.DisposeAsync();
            throw new InvalidOperationException($"{program} did not start:\n{peer.Log}", e);
        }

        return peer;
    }

    /// <summary>True once something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<bool> AcceptsTcpAsync(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (int pid in DaemonPids())
        {
            Kill(pid);
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().WaitAsync(TestTimeout.Default);
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Processes whose command line names this peer's folder: what a daemonizing program left running.</summary>
    private IEnumerable<int> DaemonPids()
    {
        foreach (string entry in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(entry, "cmdline"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (commandLine.Contains(Directory, StringComparison.Ordinal))
            {
                yield return pid;
            }
        }
    }

    private static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(TestTimeout.Default);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone already.
        }
    }
}
