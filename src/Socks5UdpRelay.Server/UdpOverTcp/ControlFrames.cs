using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Notices;

namespace Socks5UdpRelay.Server.UdpOverTcp;

/// <summary>
/// The command lines of a UDP-over-TCP client that opted in: each control frame holds one line
/// (its <c>\n</c> included), carried out by the association's <see cref="CommandExecutor"/> and
/// answered in a control frame. Without commands the lines are read and dropped unanswered, as
/// on a UDP association's control connection.
/// </summary>
internal sealed class ControlFrames(CommandExecutor? executor, IControlWriter writer)
{
    private CommandStep? _step;

    /// <summary>Takes the line of a control frame (copied out: the frame's bytes may be reused once this returns).</summary>
    public void Take(ReadOnlySpan<byte> line)
    {
        if (executor is null)
        {
            _step = null;
            return;
        }

        if (line.Length > NoticeFormat.MaxLineLength || line.IndexOf((byte)'\n') != line.Length - 1)
        {
            executor.Malformed(); // not exactly one line
            _step = CommandStep.Answer;
            return;
        }

        _step = executor.Take(line);
    }

    /// <summary>Carries out the line taken last and writes its answer; waits while the client does not read.</summary>
    public async ValueTask AnswerAsync()
    {
        if (_step is not { } step)
        {
            return;
        }

        _step = null;
        if (step == CommandStep.Execute)
        {
            await executor!.ExecuteAsync().ConfigureAwait(false);
        }

        await writer.WriteAnswerAsync(executor!.Answer).ConfigureAwait(false);
    }
}
