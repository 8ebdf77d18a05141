using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>
/// Writes notice lines on the control connection, in order. A line goes out at once, on the
/// thread that produced it, with a non-blocking send when nothing is queued ahead of it: the
/// client hears about an error without a thread hop. Otherwise it waits in a bounded queue
/// that a drain task, started only then, empties; a client that reads slowly or never cannot
/// make the server buffer without limit or slow the relay: once the queue is full, lines are
/// dropped and counted. With notices off it writes nothing at all.
/// </summary>
/// <remarks>
/// Most connections never fill their socket, so an idle association holds no writer task, queue
/// or wake-up primitive: with thousands of associations open that is a good part of their memory.
/// </remarks>
internal sealed class NoticeWriter : IControlWriter
{
    private readonly Socket _control;
    private readonly bool _enabled;
    private readonly int _capacity;
    private readonly Lock _gate = new();
    private Queue<byte[]>? _pending;
    private Task _drain = Task.CompletedTask;
    private bool _draining;
    private bool _completed;
    private RoomWaiter _room;
    private long _sent;
    private long _dropped;

    public NoticeWriter(Socket control, int capacity, bool enabled)
    {
        _control = control;
        _enabled = enabled;
        _capacity = Math.Max(1, capacity);
    }

    public bool Enabled => _enabled;

    public long Sent => Interlocked.Read(ref _sent);

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Sends or queues a complete line (with its <c>\n</c>); false when dropped because the queue is full or closed.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> line)
    {
        if (!_enabled)
        {
            return false;
        }

        lock (_gate)
        {
            if (_completed)
            {
                Interlocked.Increment(ref _dropped);
                return false;
            }

            if (!_draining)
            {
                int sent = IControlWriter.TrySendNow(_control, line);
                if (sent == line.Length)
                {
                    Interlocked.Increment(ref _sent);
                    return true;
                }

                line = line[sent..]; // the rest waits for room in the socket
            }

            var pending = _pending ??= new Queue<byte[]>();
            if (pending.Count >= _capacity)
            {
                Interlocked.Increment(ref _dropped);
                return false;
            }

            pending.Enqueue(line.ToArray());
            StartDrain();

            return true;
        }
    }

    /// <summary>
    /// Sends or queues an answer to a client command (README, "Client commands"). Answers are
    /// never dropped, whatever the queue holds; instead the task completes only once the queue
    /// has room again, and the caller reads no further command until then: a client that does
    /// not read its answers stops being read (back-pressure), while notices past the bound are
    /// dropped as ever. With the connection gone the answer has nowhere to go and the task ends.
    /// </summary>
    public ValueTask WriteAnswerAsync(ReadOnlySpan<byte> line)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return ValueTask.CompletedTask;
            }

            if (!_draining)
            {
                int sent = IControlWriter.TrySendNow(_control, line);
                if (sent == line.Length)
                {
                    Interlocked.Increment(ref _sent);
                    return ValueTask.CompletedTask;
                }

                line = line[sent..];
            }

            var pending = _pending ??= new Queue<byte[]>();
            pending.Enqueue(line.ToArray());
            StartDrain();

            return pending.Count < _capacity ? ValueTask.CompletedTask : _room.WaitAsync();
        }
    }

    /// <summary>
    /// No more lines. The task ends when what is queued has been written, or the connection
    /// failed; disposing the connection ends it too (whatever is still queued is counted as dropped).
    /// </summary>
    public Task CompleteAsync()
    {
        lock (_gate)
        {
            _completed = true;
            _room.Release();
            return _drain;
        }
    }

    /// <summary>Starts the drain task unless it runs: it writes what is queued in order, behind what a send took at once.</summary>
    private void StartDrain()
    {
        if (!_draining)
        {
            _draining = true;
            _drain = Task.Run(DrainAsync);
        }
    }

    /// <summary>Writes the queue until it is empty; the next line that cannot go out at once starts another drain.</summary>
    private async Task DrainAsync()
    {
        byte[]? line = null;
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    if (_room.IsWaiting && _pending!.Count < _capacity)
                    {
                        _room.Release();
                    }

                    if (!_pending!.TryDequeue(out line))
                    {
                        _draining = false;
                        return;
                    }
                }

                await _control.SendAsync(line, SocketFlags.None).ConfigureAwait(false);
                line = null;
                Interlocked.Increment(ref _sent);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The connection is going away; what is still queued has nowhere to go.
            lock (_gate)
            {
                _completed = true;
                _draining = false;
                Interlocked.Add(ref _dropped, _pending!.Count + (line is null ? 0 : 1));
                _pending.Clear();
                _room.Release();
            }
        }
    }
}
