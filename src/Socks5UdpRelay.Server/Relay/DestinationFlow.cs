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

    public DestinationFlow(DestinationKey key, ClientReplies replies, NoticeRouter notices, AssociationCounters counters, TimeProvider time)
    {
        Key = key;
        _replies = replies;
        _notices = notices;
        _counters = counters;
        _time = time;
        _replyHeader = new byte[key.IsIPv4 ? UdpRequestHeader.IPv4Length : UdpRequestHeader.IPv6Length];
        UdpRequestHeader.Write(_replyHeader, key.ToIPAddress(), key.Port);
        LastActivity = time.GetTimestamp();
    }

    public DestinationKey Key { get; }

    /// <summary>The name the client last used for this destination, or null when it sent to the address.</summary>
    public string? AddressedAs { get; private set; }

    /// <summary>When a datagram last went either way (timestamp of the association's clock).</summary>
    public long LastActivity { get; private set; }

    /// <summary>When the client last sent here.</summary>
    public long LastSent { get; private set; }

    public long DatagramsSent { get; private set; }

    public long BytesSent { get; private set; }

    public long DatagramsReceived { get; private set; }

    public long BytesReceived { get; private set; }

    public void Attach(IDestinationSocket socket) => _socket = socket;

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

            _notices.Error(Key, AddressedAs, error);
        }
    }

    public void Dispose() => _socket?.Dispose();
}
