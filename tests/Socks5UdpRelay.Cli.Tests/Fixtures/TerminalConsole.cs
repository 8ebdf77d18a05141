namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>A console whose stderr counts as a terminal (so progress is shown), with empty stdin and environment.</summary>
internal static class TerminalConsole
{
    public static CliConsole Create(TextWriter output, TextWriter error) => new()
    {
        In = new StringReader(string.Empty),
        Out = output,
        Error = error,
        IsErrorTerminal = true,
        GetEnvironmentVariable = _ => null,
    };
}
