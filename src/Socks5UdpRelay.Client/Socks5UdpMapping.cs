using System.Buffers;
using System.Net;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// One extra mapping of a <see cref="Socks5UdpAssociation"/>, made by <c>MAP</c> (the README,
/// "Client commands"): its own outbound port at the relay, behind the association's relay
/// endpoint and UDP socket. Its datagrams carry <see cref="Number"/> in the SOCKS header's RSV
/// (over TCP: in mapped frames), and replies carrying it come to <see cref="ReceiveAsync"/> alone. Dispose it (or
/// <see cref="UnmapAsync"/>) to release it at the proxy.
/// </summary>
/// <remarks>
/// Sends may run from several tasks at once (each takes a pooled buffer, so a steady flow
/// allocates nothing); one receive at a time. Up to 256 received datagrams wait for a receiver
/// that falls behind; later ones are dropped and counted in <see cref="DroppedDatagrams"/>.
/// </remarks>
public sealed class Socks5UdpMapping : IAsyncDisposable
{
    private readonly DatagramEncoder _encoder;
    private int _receiving;
    private int _closed;

    internal Socks5UdpMapping(Socks5UdpAssociation association, ushort number, ushort outboundPort)
    {
        Association = association;
        Number = number;
        OutboundPort = outboundPort;
        _encoder = new DatagramEncoder(number);
    }

    /// <summary>The association it belongs to.</summary>
    public Socks5UdpAssociation Association { get; }

    /// <summary>The mapping number the proxy gave it (never 0, which is the association's first mapping).</summary>
    public ushort Number { get; }

    /// <summary>Its outbound port at the relay, from <c>MAP-OK port=</c>: the source port its destinations see.</summary>
    public ushort OutboundPort { get; }

    /// <summary>Datagrams for it dropped because 256 were already waiting for <see cref="ReceiveAsync"/>, or after it closed.</summary>
    public long DroppedDatagrams => Inbox.Dropped;

    /// <summary>True once unmapped, disposed, or ended with its association.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    internal MappingInbox Inbox { get; } = new();

    /// <summary>Sends one datagram from this mapping to an IP destination.</summary>
    /// <exception cref="ArgumentException">The payload does not fit in one datagram with its header.</exception>
    /// <exception cref="ObjectDisposedException">The mapping or its association is closed.</exception>
    public async ValueTask SendAsync(IPEndPoint destination, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ThrowIfClosed();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(UdpOverTcpConnection.FrameRoom + DatagramEncoder.BufferLength(payload.Length));
        try
        {
            int length = _encoder.Write(buffer.AsSpan(UdpOverTcpConnection.FrameRoom), destination.Address, destination.Port, payload.Span);
            await Association.SendDatagramAsync(buffer, length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends one datagram from this mapping to a name (resolved by the proxy) or an IP literal.</summary>
    /// <exception cref="ArgumentException">The name is not 1 to 255 ASCII characters, or the payload does not fit.</exception>
    /// <exception cref="ObjectDisposedException">The mapping or its association is closed.</exception>
    public async ValueTask SendAsync(string host, int port, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ThrowIfClosed();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(UdpOverTcpConnection.FrameRoom + DatagramEncoder.BufferLength(payload.Length));
        try
        {
            int length = _encoder.Write(buffer.AsSpan(UdpOverTcpConnection.FrameRoom), host, port, payload.Span);
            await Association.SendDatagramAsync(buffer, length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Receives the next datagram for this mapping, its payload copied to <paramref name="buffer"/>
    /// (truncated to the buffer's length).
    /// </summary>
    /// <exception cref="InvalidOperationException">Another receive is in progress.</exception>
    /// <exception cref="ObjectDisposedException">The mapping or its association is closed (a pending receive ends so too).</exception>
    public async ValueTask<Socks5UdpReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (Interlocked.Exchange(ref _receiving, 1) != 0)
        {
            throw new InvalidOperationException("Another ReceiveAsync is in progress: receive from one task at a time.");
        }

        try
        {
            return await Inbox.ReceiveAsync(buffer, this, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _receiving, 0);
        }
    }

    /// <summary><c>SET … map=N</c>: as <see cref="Socks5UdpAssociation.SetTtlAsync(IPEndPoint, int?, Socks5UdpMapping?, CancellationToken)"/>, for this mapping.</summary>
    public Task<CommandAnswer> SetTtlAsync(IPEndPoint destination, int? ttl, CancellationToken cancellationToken = default)
        => Association.SetTtlAsync(destination, ttl, this, cancellationToken);

    /// <summary><c>SET … map=N</c> to a name or IP literal, for this mapping.</summary>
    public Task<CommandAnswer> SetTtlAsync(string host, int port, int? ttl, CancellationToken cancellationToken = default)
        => Association.SetTtlAsync(host, port, ttl, this, cancellationToken);

    /// <summary>
    /// <c>UNMAP map=N</c>: the proxy closes this mapping and its destination sockets. Completes on
    /// <c>UNMAP-OK</c>; the mapping is closed here too, and also on <c>UNMAP-FAILED reason=invalid</c>
    /// (the proxy held it no longer), which still throws.
    /// </summary>
    /// <exception cref="Socks5CommandException">The proxy answered <c>UNMAP-FAILED</c>.</exception>
    /// <exception cref="Socks5Exception">The association ended before the answer.</exception>
    /// <exception cref="ObjectDisposedException">The mapping or its association is closed.</exception>
    public Task UnmapAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        return Association.UnmapAsync(this, cancellationToken);
    }

    /// <summary>
    /// Unmaps at the proxy unless already closed, waiting for the answer at most
    /// <see cref="Socks5ProxyOptions.HandshakeTimeout"/>; failures are ignored, as the mapping is
    /// gone here either way (a late answer is still taken off the connection in its turn).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!IsClosed && !Association.IsDisposed)
        {
            var unmap = Association.UnmapQuietlyAsync(this);
            try
            {
                await unmap.WaitAsync(Association.CommandGrace).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The association still owns the command and awaits it when it is disposed.
            }
        }

        CloseLocally();
    }

    /// <summary>Pending and later receives end; later datagrams for it are dropped.</summary>
    internal void CloseLocally()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            Inbox.Complete();
        }
    }

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(IsClosed || Association.IsDisposed, this);
}
