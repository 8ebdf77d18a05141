using System.Buffers;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Notices;

namespace Socks5UdpRelay.Server.UdpOverTcp;

/// <summary>
/// The sending side of a UDP-over-TCP connection (the README, "UDP over TCP"): datagram frames
/// from the relay's loop, notices and answers as control frames, each frame whole and in order.
/// A frame goes out at once with a non-blocking send when nothing waits ahead of it; otherwise it
/// is copied behind what waits, which a drain task (started only then) writes. What waits is
/// bounded by <see cref="PendingLimit"/> bytes: past it a datagram or a notice is dropped (the
/// caller counts it), as UDP would lose it, while an answer is always queued and its caller then
/// waits for room, so a client that stops reading is neither buffered for without bound nor read.
/// </summary>
internal sealed class FrameWriter : IControlWriter
{
    /// <summary>What may wait for a slow reader: a few of the largest frames, about 6 ms of a gigabit link.</summary>
    public const int PendingLimit = 256 * 1024;

    private readonly Socket _socket;
    private readonly bool _notices;
    private readonly Lock _gate = new();
    private byte[]? _pending;
    private int _pendingLength;

    // Bytes of the buffer the drain task is writing: they still wait for the client, so they count
    // against the limit with those queued behind them (else two full buffers could wait).
    private int _inFlight;
    private byte[]? _spare;
    private Task _drain = Task.CompletedTask;
    private bool _draining;
    private bool _completed;
    private RoomWaiter _room;
    private long _sent;
    private long _dropped;

    /// <summary>A writer on <paramref name="socket"/> (non-blocking); <paramref name="notices"/> when the client opted in to notices.</summary>
    public FrameWriter(Socket socket, bool notices)
    {
        _socket = socket;
        _notices = notices;
    }

    /// <summary>Notice lines that went out or wait.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Notice lines dropped: no room, or the connection gone.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Sends or queues one whole datagram frame; false when it was dropped (no room, or closed).</summary>
    public bool TryWriteDatagram(ReadOnlySpan<byte> frame) => Write(frame, droppable: true);

    /// <summary>A notice line as a control frame, when the client opted in; false when dropped or not sent.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> line)
    {
        if (!_notices)
        {
            return false;
        }

        Span<byte> frame = stackalloc byte[UdpOverTcpFrame.ControlHeaderLength + NoticeFormat.MaxLineLength];
        bool written = Write(frame[..UdpOverTcpFrame.WriteControl(frame, line)], droppable: true);
        Interlocked.Increment(ref written ? ref _sent : ref _dropped);
        return written;
    }

    /// <summary>An answer as a control frame: never dropped; completes once less than <see cref="PendingLimit"/> waits.</summary>
    public ValueTask WriteAnswerAsync(ReadOnlySpan<byte> line)
    {
        Span<byte> frame = stackalloc byte[UdpOverTcpFrame.ControlHeaderLength + NoticeFormat.MaxLineLength];
        lock (_gate)
        {
            return !WriteLocked(frame[..UdpOverTcpFrame.WriteControl(frame, line)], droppable: false) || _pendingLength + _inFlight < PendingLimit
                ? ValueTask.CompletedTask
                : _room.WaitAsync();
        }
    }

    /// <summary>No more frames; the task ends when what waits is written, or the connection failed.</summary>
    public Task CompleteAsync()
    {
        lock (_gate)
        {
            _completed = true;
            _room.Release();
            return _drain;
        }
    }

    private bool Write(ReadOnlySpan<byte> frame, bool droppable)
    {
        lock (_gate)
        {
            return WriteLocked(frame, droppable);
        }
    }

    private bool WriteLocked(ReadOnlySpan<byte> frame, bool droppable)
    {
        if (_completed)
        {
            return false;
        }

        if (!_draining)
        {
            int sent = IControlWriter.TrySendNow(_socket, frame);
            if (sent == frame.Length)
            {
                return true;
            }

            // The rest of a frame partly sent must follow it, whatever waits: the stream has no other way to stay in frame.
            frame = frame[sent..];
            droppable = false;
        }

        if (droppable && _pendingLength + _inFlight + frame.Length > PendingLimit)
        {
            return false;
        }

        Append(frame);
        if (!_draining)
        {
            _draining = true;
            _drain = Task.Run(DrainAsync);
        }

        return true;
    }

    /// <summary>Copies <paramref name="frame"/> behind what waits, into a pooled buffer that grows when an answer goes past the limit.</summary>
    private void Append(ReadOnlySpan<byte> frame)
    {
        int needed = _pendingLength + frame.Length;
        if (_pending is null || _pending.Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, PendingLimit + UdpOverTcpFrame.MaxHeaderLength + UdpOverTcpFrame.MaxData));
            if (_pending is not null)
            {
                _pending.AsSpan(0, _pendingLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_pending);
            }

            _pending = larger;
        }

        frame.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength = needed;
    }

    /// <summary>Writes what waits, a buffer at a time, while the next one fills; ends when nothing waits.</summary>
    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                byte[] sending;
                int length;
                lock (_gate)
                {
                    _inFlight = 0;
                    if (_pendingLength < PendingLimit)
                    {
                        _room.Release();
                    }

                    if (_pendingLength == 0)
                    {
                        _draining = false;
                        ReturnBuffers();
                        return;
                    }

                    (sending, length) = (_pending!, _pendingLength);
                    (_pending, _pendingLength, _spare, _inFlight) = (_spare, 0, null, length);
                }

                await _socket.SendAsync(sending.AsMemory(0, length), SocketFlags.None).ConfigureAwait(false);
                lock (_gate)
                {
                    if (_spare is null)
                    {
                        _spare = sending;
                    }
                    else
                    {
                        ArrayPool<byte>.Shared.Return(sending);
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            lock (_gate)
            {
                // The connection is going away: nothing waiting has anywhere to go.
                _completed = true;
                _draining = false;
                _pendingLength = 0;
                _inFlight = 0;
                ReturnBuffers();
                _room.Release();
            }
        }
    }

    private void ReturnBuffers()
    {
        if (_pending is not null)
        {
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = null;
        }

        if (_spare is not null)
        {
            ArrayPool<byte>.Shared.Return(_spare);
            _spare = null;
        }
    }
}
