using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Tests.Shared.Topology;

/// <summary>
/// A long-running process started by <see cref="NetnsTopology.StartProcess"/>: its standard output
/// and error are captured line by line (interleaved, as a terminal would show them), its standard
/// input is open for the test, and disposing it kills its whole process tree.
/// </summary>
public sealed class NetnsProcess : IDisposable, IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];
    private readonly Lock _gate = new();
    private int _disposed;

    private NetnsProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The program's pid (<c>ip netns exec</c> execs it), kept after dispose for checks.</summary>
    public int Id { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code; only valid once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Write here to feed the process (e.g. lines for a CLI); close it to signal end of input.</summary>
    public StreamWriter StandardInput => _process.StandardInput;

    /// <summary>Everything the process has written so far, stdout and stderr interleaved by line.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public static NetnsProcess Start(IReadOnlyList<string> command, IReadOnlyDictionary<string, string?>? environment)
    {
        var startInfo = CommandRunner.StartInfo(command);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = startInfo };
        var handle = new NetnsProcess(process);
        process.OutputDataReceived += (_, e) => handle.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => handle.OnLine(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start `{string.Join(' ', command)}`.");
        }

        handle.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return handle;
    }

    /// <summary>Completes when the output contains <paramref name="text"/>; throws <see cref="TimeoutException"/> (with the output so far) after the timeout, or if the process exits first.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan? timeout = null)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            _waiters.Add((text, seen));
        }

        var limit = timeout ?? TestTimeout.Default;
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(seen.Task, exited, Task.Delay(limit)).ConfigureAwait(false);
        if (first == seen.Task)
        {
            return;
        }

        // The exit may race the last lines: look once more.
        if (Output.Contains(text, StringComparison.Ordinal))
        {
            return;
        }

        var why = first == exited ? $"the process exited with {_process.ExitCode}" : $"{limit.TotalSeconds} s passed";
        throw new TimeoutException($"`{text}` did not appear before {why}. Output so far:\n{Output}");
    }

    /// <summary>Waits for the process to exit on its own and returns its exit code; throws <see cref="TimeoutException"/> after the timeout.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TestTimeout.Default;
        try
        {
            await _process.WaitForExitAsync().WaitAsync(limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The process did not exit within {limit.TotalSeconds} s. Output so far:\n{Output}");
        }

        // The parameterless wait also drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as <c>docker stop</c> or the kubelet would; the process exits on its own.</summary>
    public void Terminate()
    {
        if (NativeMethods.kill(Id, 15) != 0)
        {
            throw new Win32Exception(System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), $"kill({Id}, SIGTERM) failed");
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TestTimeout.Default);
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or Win32Exception)
        {
            // It exited between the check and the kill.
        }
        finally
        {
            _process.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource> ready = [];
        lock (_gate)
        {
            _output.Append(line).Append('\n');
            var text = _output.ToString();
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (text.Contains(_waiters[i].Text, StringComparison.Ordinal))
                {
                    ready.Add(_waiters[i].Seen);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var seen in ready)
        {
            seen.TrySetResult();
        }
    }

    private static class NativeMethods
    {
        [System.Runtime.InteropServices.DllImport("libc", ExactSpelling = true, SetLastError = true)]
        internal static extern int kill(int pid, int signal);
    }
}
