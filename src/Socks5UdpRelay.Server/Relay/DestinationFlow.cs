using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// An association's traffic with one resolved destination over its own connected socket: the
/// datagrams out, the replies back behind their header, the errors to the notices.
/// </summary>
internal sealed class DestinationFlow : IDatagramHandler, IDisposable
{
    /// <summary>Spoof resistance: an error for a destination the client has not sent to this lately is not believed (the kernel already matched the ICMP to this socket's four-tuple).</summary>
    private static readonly TimeSpan RecentSendWindow = TimeSpan.FromSeconds(30);

    private readonly byte[] _replyHeader;
    private readonly ClientReplies _replies;
    private readonly NoticeRouter _notices;
    private readonly AssociationCounters _counters;
    private readonly TimeProvider _time;
    private IDestinationSocket? _socket;
    private bool _queued;

    public DestinationFlow(DestinationKey key, ushort mapping, ClientReplies replies, NoticeRouter notices, AssociationCounters counters, TimeProvider time)
    {
        Key = key;
        Mapping = mapping;
        _replies = replies;
        _notices = notices;
        _counters = counters;
        _time = time;
        _replyHeader = new byte[key.IsIPv4 ? UdpRequestHeader.IPv4Length : UdpRequestHeader.IPv6Length];
        UdpRequestHeader.Write(_replyHeader, key.ToIPAddress(), key.Port, mapping); // RSV names the mapping (0 for a client that never sent MAP)
        LastActivity = time.GetTimestamp();
    }

    public DestinationKey Key { get; }

    /// <summary>The mapping this flow belongs to.</summary>
    public ushort Mapping { get; }

    /// <summary>The TTL the client set here (<c>SET</c>), 0 when it set none or set the default again.</summary>
    public int Ttl { get; private set; }

    /// <summary>Whether the client set something here: its closing is then told (<c>DST-CLOSED</c>).</summary>
    public bool HasSettings { get; private set; }

    /// <summary>The name the client last used for this destination, or null when it sent to the address.</summary>
    public string? AddressedAs { get; private set; }

    /// <summary>When a datagram last went either way (timestamp of the association's clock).</summary>
    public long LastActivity { get; private set; }

    /// <summary>When the client last sent here.</summary>
    public long LastSent { get; private set; }

    /// <summary>When the mapping's inbound filter last heard that the client sends here (0: never).</summary>
    public long InboundNotedAt;

    public long DatagramsSent { get; private set; }

    public long BytesSent { get; private set; }

    public long DatagramsReceived { get; private set; }

    public long BytesReceived { get; private set; }

    public void Attach(IDestinationSocket socket) => _socket = socket;

    /// <summary>
    /// Datagrams from now on leave with <paramref name="ttl"/> (0: the default); the flow
    /// remembers that the client set it. Returns 0, or the kernel's errno.
    /// </summary>
    public int SetTtl(int ttl, string? addressedAs)
    {
        int errno = _socket!.SetTtl(ttl);
        if (errno == 0)
        {
            Ttl = ttl;
            HasSettings = true;
            AddressedAs = addressedAs;
        }

        return errno;
    }

    /// <summary>
    /// Sends one datagram now. A send that fails on an error the kernel held from an earlier
    /// datagram transmitted nothing: the error has been reported by then, and the send is made
    /// once more, so no datagram is lost to it. A full send buffer drops the datagram, never waits.
    /// </summary>
    public void Send(string? addressedAs, ReadOnlySpan<byte> payload, long now)
    {
        Note(addressedAs, now);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            switch (_socket!.Send(payload))
            {
                case SendResult.Sent:
                    DatagramsSent++;
                    BytesSent += payload.Length;
                    return;
                case SendResult.BufferFull:
                    _counters.Drop(DropReason.BufferFull);
                    return;
                case SendResult.ErrorReported when attempt == 0:
                    _counters.SendsRetried++;
                    continue;
                default:
                    _counters.Drop(DropReason.SendFailed);
                    return;
            }
        }
    }

    /// <summary>
    /// Queues a datagram of <paramref name="batch"/> (the one being handled) to leave with this
    /// flow's others at <see cref="Flush"/>, where equal sizes go in one segmented send; the same
    /// retry and drop rules as <see cref="Send"/>. True when it is the first queued since the last
    /// flush: the caller then owes this flow a flush before the batch is done.
    /// </summary>
    public bool Queue(string? addressedAs, DatagramBatch batch, ReadOnlySpan<byte> payload, long now)
    {
        if (!_socket!.TryQueue(batch, payload))
        {
            Flush(); // keeps the order: what waits leaves first
            Send(addressedAs, payload, now);
            return false;
        }

        Note(addressedAs, now);
        bool first = !_queued;
        _queued = true;
        return first;
    }

    /// <summary>Sends what <see cref="Queue"/> queued, counting what left and what was dropped.</summary>
    public void Flush()
    {
        if (!_queued)
        {
            return;
        }

        _queued = false;
        var outcome = _socket!.Flush();
        DatagramsSent += outcome.Sent;
        BytesSent += outcome.Bytes;
        _counters.SendsRetried += outcome.Retried;
        if (outcome.BufferFull > 0)
        {
            _counters.Drop(DropReason.BufferFull, outcome.BufferFull);
        }

        if (outcome.Failed > 0)
        {
            _counters.Drop(DropReason.SendFailed, outcome.Failed);
        }
    }

    /// <summary>
    /// Replies: counted, then sent on to the client as one batch behind this destination's
    /// header, which the batch keeps beside them (no datagram is written to).
    /// </summary>
    public void OnDatagrams(DatagramBatch batch)
    {
        LastActivity = _time.GetTimestamp();
        for (int i = 0; i < batch.Count; i++)
        {
            DatagramsReceived++;
            BytesReceived += batch.Payload(i).Length;
        }

        batch.ShareReplyHeader(_replyHeader);
        _replies.Send(batch);
    }

    /// <summary>The last error the kernel reported for this destination (and believed), when it came, and how many in all.</summary>
    public ErrorReport? LastError { get; private set; }

    public long LastErrorAt { get; private set; }

    public long ErrorCount { get; private set; }

    public void OnErrors(ReadOnlySpan<ErrorReport> errors)
    {
        if (_time.GetElapsedTime(LastSent) > RecentSendWindow)
        {
            _counters.StaleErrors += errors.Length;
            return;
        }

        foreach (var error in errors)
        {
            // The kernel names the datagram's destination; anything for another four-tuple is not this flow's.
            if (error.OriginalDestination is { } original && DestinationKey.From(original.Address, original.Port) != Key)
            {
                _counters.StaleErrors++;
                continue;
            }

            LastError = error;
            LastErrorAt = _time.GetTimestamp();
            ErrorCount++;
            _notices.Error(Key, AddressedAs, Mapping, error);
        }
    }

    /// <summary>Sends what waits, then closes the socket; a flow the client held a setting on is told closed, unless its owner is closing anyway.</summary>
    public void Close(FlowCloseReason reason)
    {
        if (_socket is not null)
        {
            Flush();
        }

        _socket?.Dispose();
        if (HasSettings && reason != FlowCloseReason.Owner)
        {
            _notices.DestinationClosed(Key, AddressedAs, Mapping, reason == FlowCloseReason.Idle ? DestinationClosedReasons.Idle : DestinationClosedReasons.Evicted);
        }
    }

    public void Dispose() => Close(FlowCloseReason.Owner);

    /// <summary>The client sends here now, by <paramref name="addressedAs"/> (a name, or null for the address).</summary>
    private void Note(string? addressedAs, long now)
    {
        if (!ReferenceEquals(AddressedAs, addressedAs))
        {
            AddressedAs = addressedAs;
        }

        LastActivity = now;
        LastSent = now;
    }
}
