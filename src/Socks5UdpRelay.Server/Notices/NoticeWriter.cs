using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>
/// Writes notice lines on the control connection, in order. A line goes out at once, on the
/// thread that produced it, with a non-blocking send when nothing is queued ahead of it: the
/// client hears about an error without a thread hop. Otherwise it waits in a bounded queue
/// that a writer loop drains; a client that reads slowly or never cannot make the server
/// buffer without limit or slow the relay: once the queue is full, lines are dropped and
/// counted. With notices off it writes nothing at all.
/// </summary>
internal sealed class NoticeWriter
{
    private readonly Socket _control;
    private readonly bool _enabled;
    private readonly int _capacity;
    private readonly Queue<byte[]> _pending = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private bool _writerActive;
    private bool _completed;
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

            if (!_writerActive)
            {
                int sent = TrySendNow(line);
                if (sent == line.Length)
                {
                    Interlocked.Increment(ref _sent);
                    return true;
                }

                line = line[sent..]; // the rest waits for room in the socket
            }

            if (_pending.Count >= _capacity)
            {
                Interlocked.Increment(ref _dropped);
                return false;
            }

            _pending.Enqueue(line.ToArray());
            if (!_writerActive)
            {
                _writerActive = true;
                _wake.Release();
            }

            return true;
        }
    }

    /// <summary>Writes what the queue holds whenever it holds something, until <see cref="Complete"/> and the queue is empty, or the connection fails.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!_enabled)
        {
            return;
        }

        try
        {
            while (true)
            {
                await _wake.WaitAsync(cancellationToken).ConfigureAwait(false);
                while (true)
                {
                    byte[]? line;
                    lock (_gate)
                    {
                        if (!_pending.TryDequeue(out line))
                        {
                            _writerActive = false;
                            if (_completed)
                            {
                                return;
                            }

                            break;
                        }
                    }

                    await _control.SendAsync(line, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _sent);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is going away; what is still queued has nowhere to go.
        }
        finally
        {
            lock (_gate)
            {
                _completed = true;
                Interlocked.Add(ref _dropped, _pending.Count);
                _pending.Clear();
            }
        }
    }

    /// <summary>No more lines; RunAsync ends after writing what is queued.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
        }

        _wake.Release();
    }

    /// <summary>One non-blocking send; the bytes it took (0 when the socket has no room or is gone).</summary>
    private int TrySendNow(ReadOnlySpan<byte> line)
    {
        try
        {
            int sent = _control.Send(line, SocketFlags.None, out var error);
            return error == SocketError.Success ? sent : 0;
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
    }
}
