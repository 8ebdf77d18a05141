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
    /// Sends one datagram. A send that fails on an error the kernel held from an earlier datagram
    /// transmitted nothing: the error has been reported by then, and the send is made once more,
    /// so no datagram is lost to it. A full send buffer drops the datagram, never waits.
    /// </summary>
    public void Send(string? addressedAs, ReadOnlySpan<byte> payload, long now)
    {
        if (!ReferenceEquals(AddressedAs, addressedAs))
        {
            AddressedAs = addressedAs;
        }

        LastActivity = now;
        LastSent = now;
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

    /// <summary>Replies: counted, the header written in front of each, sent on to the client as one batch.</summary>
    public void OnDatagrams(DatagramBatch batch)
    {
        LastActivity = _time.GetTimestamp();
        for (int i = 0; i < batch.Count; i++)
        {
            var frame = batch.Frame(i, _replyHeader.Length);
            DatagramsReceived++;
            BytesReceived += frame.Length - _replyHeader.Length;
            _replyHeader.CopyTo(frame);
        }

        _replies.Send(batch, _replyHeader.Length);
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

    /// <summary>Closes the socket; a flow the client held a setting on is told closed, unless its owner is closing anyway.</summary>
    public void Close(FlowCloseReason reason)
    {
        _socket?.Dispose();
        if (HasSettings && reason != FlowCloseReason.Owner)
        {
            _notices.DestinationClosed(Key, AddressedAs, Mapping, reason == FlowCloseReason.Idle ? DestinationClosedReasons.Idle : DestinationClosedReasons.Evicted);
        }
    }

    public void Dispose() => Close(FlowCloseReason.Owner);
}
