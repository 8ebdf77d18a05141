using System.Runtime.InteropServices;
using System.Text;
using Socks5UdpRelay.Cli;

// Standard streams as Latin-1: one byte is one char both ways, so datagrams pass through
// unchanged whatever they hold (CliConsole.DataEncoding).
var stdin = new StreamReader(Console.OpenStandardInput(), Encoding.Latin1, detectEncodingFromByteOrderMarks: false);
var stdout = new StreamWriter(Console.OpenStandardOutput(), Encoding.Latin1) { AutoFlush = true };
var stderr = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true };

using var interrupted = new CancellationTokenSource();
int signals = 0;
void OnSignal(PosixSignalContext context)
{
    // The first Ctrl-C ends the command cleanly (associations closed, results printed);
    // a second one, while that hangs, kills the process as usual.
    if (Interlocked.Increment(ref signals) == 1)
    {
        context.Cancel = true;
        interrupted.Cancel();
    }
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

var console = new CliConsole
{
    In = stdin,
    Out = TextWriter.Synchronized(stdout),
    Error = TextWriter.Synchronized(stderr),
    DataEncoding = Encoding.Latin1,
    IsInputTerminal = !Console.IsInputRedirected,
    IsErrorTerminal = !Console.IsErrorRedirected,
    ReadPassword = Console.IsInputRedirected ? null : PasswordPrompt.Read,
};
return await Cli.RunAsync(args, console, interrupted.Token);
