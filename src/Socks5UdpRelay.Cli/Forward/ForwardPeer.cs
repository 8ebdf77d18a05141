using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Socks5UdpRelay.Client;

namespace Socks5UdpRelay.Cli.Forward;

/// <summary>
/// One local peer of <c>forward</c>: its own association, so replies and notices cannot reach
/// the wrong peer; datagrams queued while the association opens; closed after the idle time.
/// </summary>
internal sealed class ForwardPeer
{
    /// <summary>Datagrams held while the association opens or the relay is slow; past it they are dropped, as UDP would.</summary>
    private const int QueueLength = 256;

    private readonly Channel<byte[]> _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(QueueLength) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly CliConsole _console;
    private readonly ProxySession _session;
    private readonly Socket _local;
    private readonly ForwardRequest _request;
    private readonly string _host;
    private long _lastActivity;

    public ForwardPeer(IPEndPoint peer, Socket local, string host, ForwardRequest request, ProxySession session, CliConsole console)
    {
        Peer = peer;
        _local = local;
        _host = host;
        _request = request;
        _session = session;
        _console = console;
        _lastActivity = console.Time.GetTimestamp();
    }

    public IPEndPoint Peer { get; }

    public bool TryEnqueue(byte[] datagram) => _queue.Writer.TryWrite(datagram);

    /// <summary>Serves the peer until it is idle, the proxy ends the association, or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ServeAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // From now on TryEnqueue fails, and the next datagram from this peer starts a new association.
            _queue.Writer.TryComplete();
        }
    }

    private async Task ServeAsync(CancellationToken cancellationToken)
    {
        Socks5UdpAssociation association;
        try
        {
            association = await _session.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            _console.Say($"peer {Peer}: {e.Message}");
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await using (association.ConfigureAwait(false))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var replies = RelayRepliesAsync(association, stop.Token);
            var notices = LogNoticesAsync(association, stop.Token);
            string why = await SendQueuedAsync(association, stop.Token).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(replies, notices).ConfigureAwait(false);
            if (_session.Verbose || why != "idle")
            {
                _console.Say($"peer {Peer}: association closed ({why}).");
            }
        }
    }

    private async Task<string> SendQueuedAsync(Socks5UdpAssociation association, CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                while (reader.TryRead(out var datagram))
                {
                    await association.SendAsync(_host, _request.Port, datagram, cancellationToken).ConfigureAwait(false);
                    Touch();
                }

                var idleLeft = _request.Idle - _console.Time.GetElapsedTime(Volatile.Read(ref _lastActivity));
                if (idleLeft <= TimeSpan.Zero)
                {
                    return "idle";
                }

                var arrived = reader.WaitToReadAsync(cancellationToken).AsTask();
                var closed = association.Closed;
                var woke = await Task.WhenAny(arrived, closed, Task.Delay(idleLeft, _console.Time, cancellationToken)).ConfigureAwait(false);
                if (woke == closed)
                {
                    return "the proxy ended it";
                }

                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return "stopped";
        }
        catch (SocketException e)
        {
            return $"sending to the relay failed: {e.Message}";
        }
    }

    private Task RelayRepliesAsync(Socks5UdpAssociation association, CancellationToken cancellationToken)
        => AssociationReaders.ReadRepliesAsync(
            association,
            async (_, data) =>
            {
                Touch();
                try
                {
                    await _local.SendToAsync(data, SocketFlags.None, Peer, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode != SocketError.OperationAborted)
                {
                    // The local peer went away (its port closed): its next datagram, if any, starts over.
                    if (_session.Verbose)
                    {
                        _console.Say($"peer {Peer}: reply not delivered: {e.Message}");
                    }
                }
            },
            cancellationToken);

    private Task LogNoticesAsync(Socks5UdpAssociation association, CancellationToken cancellationToken)
        => AssociationReaders.ReadNoticesAsync(
            association,
            notice =>
            {
                _session.Trace(notice);
                if (NoticeText.Describe(notice) is { } text)
                {
                    _console.Say($"peer {Peer}: {text}");
                }
            },
            cancellationToken);

    private void Touch() => Volatile.Write(ref _lastActivity, _console.Time.GetTimestamp());
}
