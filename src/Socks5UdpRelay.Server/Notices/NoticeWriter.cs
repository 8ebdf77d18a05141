using System.Net.Sockets;
using System.Threading.Channels;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>
/// Writes notice lines on the control connection in order, from a bounded queue: a client that
/// reads slowly or never cannot make the server buffer without limit or slow the relay; once
/// the queue is full, lines are dropped and counted. With notices off it writes nothing at all.
/// </summary>
internal sealed class NoticeWriter
{
    private readonly Channel<byte[]> _queue;
    private readonly Socket _control;
    private readonly bool _enabled;
    private long _sent;
    private long _dropped;

    public NoticeWriter(Socket control, int capacity, bool enabled)
    {
        _control = control;
        _enabled = enabled;
        _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(Math.Max(1, capacity))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    public bool Enabled => _enabled;

    public long Sent => Interlocked.Read(ref _sent);

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues a complete line (with its <c>\n</c>); false when dropped because the queue is full or closed.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> line)
    {
        if (!_enabled)
        {
            return false;
        }

        if (!_queue.Writer.TryWrite(line.ToArray()))
        {
            Interlocked.Increment(ref _dropped);
            return false;
        }

        return true;
    }

    /// <summary>Writes queued lines until <see cref="Complete"/> and the queue is empty, or the connection fails.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!_enabled)
        {
            return;
        }

        try
        {
            await foreach (var line in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await _control.SendAsync(line, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _sent);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is going away; what is still queued has nowhere to go.
        }
        finally
        {
            while (_queue.Reader.TryRead(out _))
            {
                Interlocked.Increment(ref _dropped);
            }
        }
    }

    /// <summary>No more lines; RunAsync ends after writing what is queued.</summary>
    public void Complete() => _queue.Writer.TryComplete();
}
