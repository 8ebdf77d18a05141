namespace Socks5UdpRelay.Cli;

/// <summary>
/// A failure the user can act on, with the exit code it maps to. Thrown anywhere below a
/// command, printed once (message only, never a stack trace) by <see cref="Cli"/>.
/// </summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>A usage error found after parsing: a missing password, an unreadable file, a wrong address family.</summary>
    public static CliException Usage(string message) => new(ExitCodes.Usage, message);
}
