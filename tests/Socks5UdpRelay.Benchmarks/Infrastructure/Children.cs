using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Benchmarks.Infrastructure;

/// <summary>
/// Every child process the tool starts, killed (with its descendants) on normal exit, on an
/// exception, on Ctrl-C and on SIGTERM. Children are also started under
/// <c>setpriv --pdeathsig KILL</c> where it exists, so they die even if this process is killed
/// outright. The kernel sends that signal when the *thread* that forked the child ends, so
/// children are started from the main thread only (the tool's orchestration is synchronous).
/// </summary>
internal static class Children
{
    private static readonly List<Process> Running = [];
    private static PosixSignalRegistration? _sigint;
    private static PosixSignalRegistration? _sigterm;

    public static void InstallHandlers()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => KillAll();
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>
    /// A start info for <paramref name="file"/>, optionally pinned to <paramref name="cpu"/>, run in
    /// network namespace <paramref name="netns"/> (<c>ip netns exec</c>, which execs, so the pid is the
    /// program's), and tied to our life.
    /// </summary>
    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> args, int? cpu, string? netns = null)
    {
        var all = new List<string>();
        if (File.Exists("/usr/bin/setpriv"))
        {
            all.AddRange(["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"]);
        }

        if (netns is not null)
        {
            all.AddRange(["ip", "netns", "exec", netns]);
        }

        if (cpu is { } c)
        {
            all.AddRange(["taskset", "-c", c.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        all.Add(file);
        all.AddRange(args);
        var psi = new ProcessStartInfo(all[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in all.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    public static Process Start(ProcessStartInfo psi)
    {
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        lock (Running)
        {
            Running.Add(p);
        }

        return p;
    }

    public static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        lock (Running)
        {
            Running.Remove(p);
        }
    }

    public static void KillAll()
    {
        Process[] all;
        lock (Running)
        {
            all = [.. Running];
        }

        foreach (var p in all)
        {
            Kill(p);
        }
    }

    private static void OnSignal(PosixSignalContext context)
    {
        KillAll();
        context.Cancel = false;
    }
}
