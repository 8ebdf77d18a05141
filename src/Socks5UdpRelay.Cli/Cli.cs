using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text;
using Socks5UdpRelay.Cli.Doctor;
using Socks5UdpRelay.Cli.Forward;
using Socks5UdpRelay.Cli.Probe;
using Socks5UdpRelay.Cli.Send;
using Socks5UdpRelay.Cli.Trace;
using Socks5UdpRelay.Cli.Tun;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// The s5nc command line: <c>send</c>, <c>probe</c>, <c>forward</c>, <c>doctor</c> and <c>trace</c> over a SOCKS5 proxy.
/// Tests run it in process through <see cref="RunAsync(string[], TextReader, TextWriter, TextWriter, IReadOnlyDictionary{string, string}?, CancellationToken)"/>.
/// </summary>
public static class Cli
{
    private const string RootExamples = """
          echo hello | s5nc send 127.0.0.1 7
          s5nc probe --proxy 10.0.0.1:1080 192.0.2.10 53 123 161 500-600
          s5nc forward --listen 127.0.0.1:5353 192.0.2.53 53 &  dig -p 5353 @127.0.0.1 example.org
          SOCKS5_PROXY=socks5://alice@proxy.example:1080 SOCKS5_PASSWORD=... s5nc probe host.example 53
          s5nc doctor --proxy 10.0.0.1:1080 --target 192.0.2.7:7
          s5nc trace --proxy 10.0.0.1:1080 192.0.2.7
          sudo s5nc tun --proxy 10.0.0.1:1080 --route 192.0.2.0/24
        """;

    /// <summary>
    /// Runs s5nc with text streams and, unless given, the process environment. Datagram bytes are
    /// read from and written to the streams as UTF-8. Never throws for anything the user did:
    /// returns the exit code (0 success, 1 unreachable, 2 usage, 3 proxy, 4 authentication, 5 tun's host set-up).
    /// </summary>
    public static Task<int> RunAsync(
        string[] args,
        TextReader stdin,
        TextWriter stdout,
        TextWriter stderr,
        IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var console = new CliConsole
        {
            In = stdin,
            Out = TextWriter.Synchronized(stdout),
            Error = TextWriter.Synchronized(stderr),
            DataEncoding = Encoding.UTF8,
            GetEnvironmentVariable = environment is null ? Environment.GetEnvironmentVariable : name => environment.GetValueOrDefault(name),
        };
        return RunAsync(args, console, cancellationToken);
    }

    internal static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        var root = Build(console);
        var parsed = root.Parse(UdpOverTcpOption.Normalize(args));
        if (parsed.Errors.Count > 0 && parsed.Action is ParseErrorAction or null)
        {
            foreach (var error in parsed.Errors)
            {
                console.Say($"error: {error.Message}");
            }

            console.Say($"Try '{CommandPath(parsed)} --help'.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            // s5nc prints its own one-line errors, never a stack trace, and owns SIGINT/SIGTERM itself.
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        try
        {
            return await parsed.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            console.Say(e.ExitCode == ExitCodes.Usage ? $"error: {e.Message}" : e.Message);
            if (e.ExitCode == ExitCodes.Usage)
            {
                console.Say($"Try '{CommandPath(parsed)} --help'.");
            }

            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug or an environment failure: one line, and the type for the bug report.
            console.Say($"unexpected failure: {e.Message} ({e.GetType().Name})");
            return ExitCodes.Unreachable;
        }
    }

    private static RootCommand Build(CliConsole console)
    {
        var common = new CommonOptions();
        var root = new RootCommand("s5nc: nc -u through a SOCKS5 proxy. Sends, probes and forwards UDP, diagnoses a proxy's UDP (doctor), traces the route beyond it (trace), and reports the ICMP errors "
            + "a Socks5UdpRelay proxy passes back as notices (port unreachable and the rest); tun carries any program's UDP through it.\n"
            + "Exit codes: 0 success, 1 destination refused or unreachable, 2 usage error, 3 proxy unreachable or refused, 4 authentication failed, "
            + "5 tun could not set up the host.");
        common.AddTo(root);
        var send = SendCommand.Create(common, console);
        var probe = ProbeCommand.Create(common, console);
        root.Subcommands.Add(send);
        var forward = ForwardCommand.Create(common, console);
        root.Subcommands.Add(probe);
        root.Subcommands.Add(forward);
        var doctor = DoctorCommand.Create(common, console);
        root.Subcommands.Add(doctor);
        var trace = TraceCommand.Create(common, console);
        root.Subcommands.Add(trace);
        var tun = TunCommand.Create(common, console);
        root.Subcommands.Add(tun);
        var examples = new Dictionary<Command, string>
        {
            [root] = RootExamples,
            [send] = SendCommand.Examples,
            [probe] = ProbeCommand.Examples,
            [forward] = ForwardCommand.Examples,
            [doctor] = DoctorCommand.Examples,
            [trace] = TraceCommand.Examples,
            [tun] = TunCommand.Examples,
        };
        HelpWithExamples.Install(root, examples);
        return root;
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "s5nc" : result.Command.Name);
        }

        return string.Join(' ', names);
    }
}
