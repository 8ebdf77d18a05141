using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// The proxy refused a command on the control connection: it answered <c>…-FAILED</c> (the
/// README, "Client commands"). The association goes on; <see cref="Reason"/> says why.
/// </summary>
public sealed class Socks5CommandException : Exception
{
    /// <summary>Creates the exception for a failure answer to <paramref name="command"/>.</summary>
    public Socks5CommandException(string command, CommandAnswer answer)
        : base($"The proxy refused {command}: {answer.Line}")
    {
        ArgumentNullException.ThrowIfNull(answer);
        Command = command;
        Answer = answer;
    }

    /// <summary>The verb sent: <c>SET</c>, <c>MAP</c> or <c>UNMAP</c>.</summary>
    public string Command { get; }

    /// <summary>The reason; <see cref="CommandFailureReason.Other"/> for one this library does not know (see <see cref="ReasonText"/>).</summary>
    public CommandFailureReason Reason => Answer.Reason;

    /// <summary>The <c>reason</c> as the proxy wrote it; null if it wrote none.</summary>
    public string? ReasonText => Answer.ReasonText;

    /// <summary>The whole answer line, parsed.</summary>
    public CommandAnswer Answer { get; }
}
