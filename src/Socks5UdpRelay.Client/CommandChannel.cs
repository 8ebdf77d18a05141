using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// The client side of commands on a control connection (the README, "Client commands"): one
/// writer, at most <see cref="MaxInFlight"/> commands awaiting their answers, and the answers
/// matched to them in order, since the server answers every command, in order, with one line.
/// The control connection's reader hands every answer line to <see cref="TryComplete"/>.
/// </summary>
internal sealed class CommandChannel
{
    /// <summary>
    /// Commands written and not yet answered. A server that stops reading commands (its answers
    /// unread) makes later commands wait here rather than queue without bound; 16 lines of at most
    /// 1 KiB each also always fit in a socket's send buffer, so a write never blocks on them.
    /// </summary>
    public const int MaxInFlight = 16;

    private readonly Func<ReadOnlyMemory<byte>, ValueTask> _send;
    private readonly SemaphoreSlim _slots = new(MaxInFlight, MaxInFlight);
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly byte[] _line = new byte[NoticeFormat.MaxLineLength];
    private readonly Queue<Pending> _pending = new();
    private Func<Exception>? _closed;

    /// <summary>Commands written as lines on a UDP association's control connection.</summary>
    public CommandChannel(Socket control)
        : this(async line => await control.SendAsync(line, SocketFlags.None, CancellationToken.None).ConfigureAwait(false))
    {
    }

    /// <summary>Commands handed whole to <paramref name="send"/>, e.g. as the control frames of a UDP-over-TCP connection.</summary>
    public CommandChannel(Func<ReadOnlyMemory<byte>, ValueTask> send)
    {
        _send = send;
    }

    public delegate int LineWriter(Span<byte> buffer);

    /// <summary>
    /// Writes one command and returns the task of its answer (a success or a failure line). The
    /// token bounds only the wait for a slot and for the writer: a line once written is answered,
    /// and its answer still has to be taken off the connection, so callers stop waiting for the
    /// returned task on their own.
    /// </summary>
    public async Task<Task<CommandAnswer>> SendAsync(string verb, LineWriter write, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        bool slotHeld = true;
        try
        {
            await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                int length = write(_line);
                var pending = new Pending(verb);
                lock (_pending)
                {
                    if (_closed is not null)
                    {
                        throw _closed();
                    }

                    _pending.Enqueue(pending);
                    slotHeld = false; // the answer, or the end of the connection, gives it back
                }

                try
                {
                    // Never cancelled half-way: half a line would garble every command after it.
                    await _send(_line.AsMemory(0, length)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // The reader sees the connection end and fails every pending command, this one included.
                }

                return pending.Answer.Task;
            }
            finally
            {
                _writer.Release();
            }
        }
        finally
        {
            if (slotHeld)
            {
                _slots.Release();
            }
        }
    }

    /// <summary>
    /// Completes the oldest pending command with <paramref name="answer"/>; false when none is
    /// pending (the line is then no answer of ours). An answer for another verb breaks the
    /// protocol: the command fails with that said, and the order goes on.
    /// </summary>
    public bool TryComplete(CommandAnswer answer)
    {
        Pending pending;
        lock (_pending)
        {
            if (!_pending.TryDequeue(out pending!))
            {
                return false;
            }
        }

        _slots.Release();
        if (answer.Command == pending.Verb || answer.Command == CommandVerbs.Command)
        {
            pending.Answer.TrySetResult(answer);
        }
        else
        {
            pending.Answer.TrySetException(new Socks5Exception(
                Socks5ErrorKind.ProtocolError, $"The proxy answered {pending.Verb} with '{answer.Line}'."));
        }

        return true;
    }

    /// <summary>Fails every pending command and every later one with an exception from <paramref name="reason"/>.</summary>
    public void Close(Func<Exception> reason)
    {
        Pending[] failed;
        lock (_pending)
        {
            _closed ??= reason;
            failed = [.. _pending];
            _pending.Clear();
        }

        foreach (var pending in failed)
        {
            _slots.Release();
            pending.Answer.TrySetException(reason());
        }
    }

    private sealed class Pending(string verb)
    {
        public string Verb { get; } = verb;

        public TaskCompletionSource<CommandAnswer> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
