using System.Buffers;
using System.Threading.Channels;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// The datagrams waiting for one mapping once an association has more than one: the reader of
/// the relay-facing socket posts each by its RSV, and the mapping's receiver takes them. Payloads
/// are copied into pooled arrays of their own size, so a steady flow allocates nothing; a full
/// inbox drops the arriving datagram, as a full socket buffer would, and counts it.
/// </summary>
internal sealed class MappingInbox
{
    /// <summary>Datagrams kept for a receiver that falls behind.</summary>
    public const int Capacity = 256;

    private readonly Channel<Item> _items;
    private readonly SourceCache _sources = new();
    private long _dropped;

    public MappingInbox()
    {
        _items = Channel.CreateBounded<Item>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = false },
            item =>
            {
                ArrayPool<byte>.Shared.Return(item.Payload);
                Interlocked.Increment(ref _dropped);
            });
    }

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Copies a payload in; called by the one task that reads the relay-facing socket at the time.</summary>
    public void Post(ReadOnlySpan<byte> payload, in SocksAddress source)
    {
        var endpoint = _sources.Get(source);
        byte[] copy = ArrayPool<byte>.Shared.Rent(Math.Max(payload.Length, 1));
        payload.CopyTo(copy);
        if (!_items.Writer.TryWrite(new Item(copy, payload.Length, endpoint)))
        {
            // Completed: the mapping is gone.
            ArrayPool<byte>.Shared.Return(copy);
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>The next datagram, its payload copied to <paramref name="buffer"/> (truncated as <c>recv</c> does).</summary>
    /// <exception cref="ObjectDisposedException">The mapping or its association is closed.</exception>
    public async ValueTask<Socks5UdpReceiveResult> ReceiveAsync(Memory<byte> buffer, object owner, CancellationToken cancellationToken)
    {
        Item item;
        try
        {
            item = await _items.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw new ObjectDisposedException(owner.GetType().Name, e);
        }

        int length = Math.Min(item.Length, buffer.Length);
        item.Payload.AsSpan(0, length).CopyTo(buffer.Span);
        ArrayPool<byte>.Shared.Return(item.Payload);
        return new Socks5UdpReceiveResult(length, item.Source);
    }

    /// <summary>Ends the inbox: what is queued is dropped, and a pending or later receive throws.</summary>
    public void Complete()
    {
        _items.Writer.TryComplete();
        while (_items.Reader.TryRead(out var item))
        {
            ArrayPool<byte>.Shared.Return(item.Payload);
        }
    }

    private readonly record struct Item(byte[] Payload, int Length, Socks5Endpoint Source);
}
