using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Socks5UdpRelay.Benchmarks.Infrastructure;

/// <summary>A proxy the tool started: where it listens, its process (for CPU and RSS), and its last output lines.</summary>
internal sealed class StartedServer : IDisposable
{
    private readonly Queue<string> _tail = new();

    public StartedServer(string name, Process process)
    {
        Name = name;
        Process = process;
    }

    public string Name { get; }

    public Process Process { get; }

    public IPEndPoint EndPoint { get; set; } = new(IPAddress.Loopback, 0);

    /// <summary>The process whose tree does the relaying (the server itself, not setpriv/taskset/the script).</summary>
    public int Pid { get; set; }

    public string Tail
    {
        get
        {
            lock (_tail)
            {
                return string.Join('\n', _tail);
            }
        }
    }

    public void Remember(string line)
    {
        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > 40)
            {
                _tail.Dequeue();
            }
        }
    }

    public void Dispose() => Children.Kill(Process);
}

/// <summary>Starts our server (the real Socks5UdpRelay.Server.dll, out of process) or Dante (run-dante.sh) on loopback.</summary>
internal static partial class ServerLauncher
{
    /// <summary>
    /// Configuration our server gets for measurements: a loopback port 0 listener, and the notice
    /// rate limits raised so notice-latency samples are not suppressed. Nothing else differs
    /// from the shipped config/appsettings.json (logging stays at Information).
    /// </summary>
    public static readonly string[] OurDefaultArgs =
    [
        "--Relay:Listen:0=127.0.0.1:0",
        "--Relay:NoticesPerSecond=1000000",
        "--Relay:NoticeBurst=1000000",
    ];

    public static StartedServer StartOurs(int? cpu, IEnumerable<string> extraArgs, string? dll = null, IDictionary<string, string>? environment = null, string? netns = null)
    {
        dll ??= RepoPaths.ServerDll();
        var psi = Children.StartInfo("dotnet", [dll, .. OurDefaultArgs, .. extraArgs], cpu, netns);
        psi.Environment["SOCKS5UDPRELAY_CONFIG_DIR"] = RepoPaths.ConfigDirectory();
        psi.Environment["DOTNET_gcServer"] = null;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        return StartAndWait("ours", psi, ListeningLine(), TimeSpan.FromSeconds(20));
    }

    /// <summary>Hosts our server in a child running this tool's <c>serve-alloc</c> command.</summary>
    public static StartedServer StartServeAlloc(int? cpu, IEnumerable<string> extraArgs)
    {
        string self = typeof(ServerLauncher).Assembly.Location;
        var psi = Children.StartInfo("dotnet", [self, "serve-alloc", .. OurDefaultArgs, .. extraArgs], cpu);
        psi.Environment["SOCKS5UDPRELAY_CONFIG_DIR"] = RepoPaths.ConfigDirectory();
        return StartAndWait("ours(serve-alloc)", psi, ListeningLine(), TimeSpan.FromSeconds(20));
    }

    public static StartedServer StartDante(int? cpu)
    {
        string script = RepoPaths.DanteScript();
        var args = new List<string>();
        if (cpu is { } c)
        {
            args.AddRange(["--cpu", c.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        var psi = Children.StartInfo("bash", [script, .. args], cpu: null);
        return StartAndWait("dante", psi, DanteLine(), TimeSpan.FromSeconds(20));
    }

    private static StartedServer StartAndWait(string name, ProcessStartInfo psi, Regex ready, TimeSpan timeout)
    {
        var process = Children.Start(psi);
        var server = new StartedServer(name, process);
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            string line = AnsiEscape().Replace(e.Data, "");
            server.Remember(line);
            var m = ready.Match(line);
            if (m.Success)
            {
                found.TrySetResult(m);
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!found.Task.Wait(timeout) || process.HasExited)
        {
            server.Dispose();
            throw new InvalidOperationException($"{name} did not start within {timeout.TotalSeconds} s:\n{server.Tail}");
        }

        var match = found.Task.Result;
        server.EndPoint = IPEndPoint.Parse(match.Groups["ep"].Value);
        server.Pid = match.Groups["pid"].Success ? int.Parse(match.Groups["pid"].Value, System.Globalization.CultureInfo.InvariantCulture)
            : ProcessStats.FindTcpListener(server.EndPoint.Port) ?? process.Id;
        return server;
    }

    private static Regex ListeningLine() => new(@"Listening for SOCKS5 on (?<ep>\d+\.\d+\.\d+\.\d+:\d+)");

    private static Regex DanteLine() => new(@"^run-dante: listening on (?<ep>\S+) pid (?<pid>\d+)");

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex AnsiEscape();
}

/// <summary>Where the repository's pieces are, found by walking up from this binary to Socks5UdpRelay.sln.</summary>
internal static class RepoPaths
{
    public static string Root()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "Socks5UdpRelay.sln")))
                {
                    return d.FullName;
                }
            }
        }

        throw new InvalidOperationException("Socks5UdpRelay.sln not found above the current folder or the tool's binary.");
    }

    /// <summary>The server's own build output in the configuration this tool was built in (the project reference builds it).</summary>
    public static string ServerDll() => BuildOutput("Socks5UdpRelay.Server", "Socks5UdpRelay.Server.dll");

    /// <summary>s5nc, built beside this tool (the project reference builds it), for the gateway benchmark.</summary>
    public static string CliDll() => BuildOutput("Socks5UdpRelay.Cli", "s5nc.dll");

    public static string ConfigDirectory() => Path.Combine(Root(), "config");

    private static string BuildOutput(string project, string file)
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        string path = Path.Combine(Root(), "src", project, "bin", configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: build the solution in {configuration}.");
    }

    public static string DanteScript() => Path.Combine(Root(), "tests", "Socks5UdpRelay.Benchmarks", "run-dante.sh");
}
