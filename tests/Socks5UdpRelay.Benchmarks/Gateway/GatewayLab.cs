using System.Diagnostics;
using System.Globalization;
using System.Net;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Load;
using Socks5UdpRelay.Benchmarks.Native;

namespace Socks5UdpRelay.Benchmarks.Gateway;

/// <summary>
/// Three network namespaces for the gateway benchmark (root):
/// <code>
///  client 10.88.0.1 ─── 10.88.0.2 proxy 10.88.1.1 ─── 10.88.1.2 target
/// </code>
/// Our server listens in the proxy namespace, the echo target answers on the target's port 7, and
/// <c>s5nc tun --route 10.88.1.0/24</c> runs in the client namespace, where both loads start: a
/// SOCKS-aware client talking to the proxy, and a plain program sending to the target through the
/// gateway. Every process dies with the tool; dispose also deletes the namespaces.
/// </summary>
internal sealed class GatewayLab : IDisposable
{
    public static readonly IPAddress ClientAddress = IPAddress.Parse("10.88.0.1");
    public static readonly IPAddress TargetAddress = IPAddress.Parse("10.88.1.2");
    public const string Route = "10.88.1.0/24";

    private readonly string _prefix = string.Create(CultureInfo.InvariantCulture, $"s5g{Environment.ProcessId}-");
    private readonly List<string> _tunOutput = [];
    private StartedServer? _server;
    private EchoServer? _echo;
    private EchoServer? _dns;
    private Process? _tun;

    public string ClientNamespace => _prefix + "client";

    public string ProxyNamespace => _prefix + "proxy";

    public string TargetNamespace => _prefix + "target";

    public IPEndPoint Proxy => _server!.EndPoint;

    public IPEndPoint Echo => _echo!.EndPoint;

    /// <summary>An echo on port 53: the new-flows workload's DNS-like exchanges go to a well-known port, as a resolver's queries do (the gateway then sees them finish).</summary>
    public IPEndPoint Dns => _dns!.EndPoint;

    /// <summary>The proxy's pid (its CPU time is measured).</summary>
    public int ServerPid => _server!.Pid;

    /// <summary>The gateway's pid (its CPU time is measured).</summary>
    public int TunPid => _tun!.Id;

    public static GatewayLab Start(int? serverCpu, int? tunCpu)
    {
        var lab = new GatewayLab();
        try
        {
            lab.Build(serverCpu, tunCpu);
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>Asks the gateway for its counters (SIGUSR1) and returns the line it printed.</summary>
    public GatewayCounters Counters()
    {
        int before;
        lock (_tunOutput)
        {
            before = _tunOutput.Count(l => l.Contains("counters:", StringComparison.Ordinal));
        }

        Run("kill", "-USR1", TunPid.ToString(CultureInfo.InvariantCulture));
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            lock (_tunOutput)
            {
                var lines = _tunOutput.Where(l => l.Contains("counters:", StringComparison.Ordinal)).ToList();
                if (lines.Count > before)
                {
                    return GatewayCounters.Parse(lines[^1]);
                }
            }

            Thread.Sleep(10);
        }

        throw new InvalidOperationException($"s5nc tun printed no counters after SIGUSR1:\n{TunOutput}");
    }

    public string TunOutput
    {
        get
        {
            lock (_tunOutput)
            {
                return string.Join('\n', _tunOutput);
            }
        }
    }

    public void Dispose()
    {
        if (_tun is not null)
        {
            Run("kill", "-TERM", _tun.Id.ToString(CultureInfo.InvariantCulture));
            if (!_tun.WaitForExit(10_000))
            {
                Children.Kill(_tun);
            }
        }

        _echo?.Dispose();
        _dns?.Dispose();
        _server?.Dispose();
        foreach (var ns in new[] { ClientNamespace, ProxyNamespace, TargetNamespace })
        {
            Run(check: false, "ip", "netns", "delete", ns);
        }
    }

    private static void Run(params string[] command) => Run(check: true, command);

    private static void Run(bool check, params string[] command)
    {
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in command.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (check && p.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{string.Join(' ', command)}` failed: {error.Trim()}");
        }
    }

    private void Build(int? serverCpu, int? tunCpu)
    {
        foreach (var ns in new[] { ClientNamespace, ProxyNamespace, TargetNamespace })
        {
            Run("ip", "netns", "add", ns);
            Run("ip", "-n", ns, "link", "set", "lo", "up");
        }

        Run("ip", "link", "add", "to-proxy", "netns", ClientNamespace, "type", "veth", "peer", "name", "to-client", "netns", ProxyNamespace);
        Run("ip", "link", "add", "to-target", "netns", ProxyNamespace, "type", "veth", "peer", "name", "to-proxy", "netns", TargetNamespace);
        foreach (var (ns, dev, address) in new[]
        {
            (ClientNamespace, "to-proxy", "10.88.0.1/24"), (ProxyNamespace, "to-client", "10.88.0.2/24"),
            (ProxyNamespace, "to-target", "10.88.1.1/24"), (TargetNamespace, "to-proxy", "10.88.1.2/24"),
        })
        {
            Run("ip", "-n", ns, "addr", "add", address, "dev", dev);
            Run("ip", "-n", ns, "link", "set", dev, "up");
        }

        Run("ip", "-n", TargetNamespace, "route", "add", "default", "via", "10.88.1.1");
        _echo = Netns.Run(TargetNamespace, () => new EchoServer(1, bind: TargetAddress));
        _dns = Netns.Run(TargetNamespace, () => new EchoServer(1, bind: TargetAddress, port: 53));
        _server = ServerLauncher.StartOurs(serverCpu, ["--Relay:Listen:0=10.88.0.2:1080", "--Policy:AllowClients:0=10.88.0.1/32"], netns: ProxyNamespace);
        StartTun(tunCpu);
    }

    private void StartTun(int? cpu)
    {
        var psi = Children.StartInfo("dotnet", [RepoPaths.CliDll(), "tun", "--proxy", "10.88.0.2:1080", "--route", Route], cpu, ClientNamespace);
        psi.Environment.Remove("SOCKS5_PROXY");
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _tun = Children.Start(psi);
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_tunOutput)
            {
                _tunOutput.Add(e.Data);
            }

            if (e.Data.Contains("Ctrl-C to stop", StringComparison.Ordinal))
            {
                running.TrySetResult();
            }
        };
        _tun.OutputDataReceived += onLine;
        _tun.ErrorDataReceived += onLine;
        _tun.BeginOutputReadLine();
        _tun.BeginErrorReadLine();
        if (!running.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"s5nc tun did not start:\n{TunOutput}");
        }
    }
}
