using System.Text;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// Everything a command touches outside its arguments: the three streams, the environment, the
/// terminal and the clock. The process passes the real ones; tests pass their own.
/// </summary>
internal sealed class CliConsole
{
    public required TextReader In { get; init; }

    public required TextWriter Out { get; init; }

    public required TextWriter Error { get; init; }

    /// <summary>
    /// How datagram bytes become the characters of <see cref="In"/> and <see cref="Out"/>. The
    /// process reads and writes its standard streams as Latin-1, which maps each byte to one char
    /// and back, so binary data passes unchanged; text-based callers use UTF-8.
    /// </summary>
    public Encoding DataEncoding { get; init; } = Encoding.UTF8;

    public bool IsInputTerminal { get; init; }

    public bool IsErrorTerminal { get; init; }

    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>Reads a password from the terminal without echo; null where there is no terminal.</summary>
    public Func<string, string?>? ReadPassword { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>One line on stderr, prefixed as nc does, so it reads well among other tools' messages.</summary>
    public void Say(string message)
    {
        Error.WriteLine($"s5nc: {message}");
        Error.Flush();
    }
}
