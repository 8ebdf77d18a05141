using System.Diagnostics;
using System.Net;
using System.Text;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Tests.Shared;

/// <summary>
/// Dante in the foreground on 127.0.0.1 and a free port, with a temporary config: no
/// authentication, clients from loopback, UDP and CONNECT to loopback destinations only (the
/// tests send nowhere else, and Dante must not either), replies back. Killed on dispose.
/// </summary>
public sealed class DanteProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _log = new();

    private DanteProcess(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Everything Dante wrote, for failure messages.</summary>
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

    public static async Task<DanteProcess> StartAsync()
    {
        Assert.True(Requirements.DanteMissing is null, $"{Requirements.DanteMissing}, and SOCKS5UDPRELAY_REQUIRE_ALL=1 requires it.");
        int port = FreePorts.Tcp();
        string directory = Directory.CreateTempSubdirectory("s5-dante-").FullName;
        string config = Path.Combine(directory, "danted.conf");
        await File.WriteAllTextAsync(config, $$"""
            logoutput: stderr
            internal: 127.0.0.1 port = {{port}}
            external: 127.0.0.1
            clientmethod: none
            socksmethod: none
            user.privileged: root
            user.unprivileged: nobody
            client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
            socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 command: udpassociate connect }
            socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 command: udpreply }
            """);

        var start = new ProcessStartInfo(ExternalTools.DanteServerPath)
        {
            ArgumentList = { "-f", config, "-p", Path.Combine(directory, "danted.pid"), "-N", "1" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = start };
        var dante = new DanteProcess(process, directory, port);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (dante._log)
            {
                dante._log.AppendLine(e.Data);
            }

            // Dante says so once it listens: "info: Dante/server[1/1] v1.4.2 running".
            if (e.Data.Contains(" running", StringComparison.Ordinal))
            {
                running.TrySetResult();
            }
        };
        process.ErrorDataReceived += onLine;
        process.OutputDataReceived += onLine;
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => running.TrySetException(new InvalidOperationException("danted exited during start-up."));
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await running.Task.WaitAsync(TestTimeout.Default);
        }
        catch (Exception e)
        {
            await dante.DisposeAsync();
            throw new InvalidOperationException($"danted did not start:\n{dante.Log}", e);
        }

        return dante;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().WaitAsync(TestTimeout.Default);
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
