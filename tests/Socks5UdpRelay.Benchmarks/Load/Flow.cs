using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Benchmarks.Native;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// One association through a proxy (or one plain socket for the direct baseline) and the
/// datagrams in flight on it. Payload: flow id (4 bytes), sequence number (8), then a fixed
/// pattern; every reply is checked for its source, its SOCKS header (the echo target as
/// source), its length, its flow and sequence, and the pattern byte for byte.
/// </summary>
internal sealed class Flow : IDisposable
{
    public const int PayloadPrefix = 12;

    private readonly SocksControl? _control;
    private readonly Socket _udp;
    private readonly int _fd;
    private readonly byte[] _sendTo;
    private readonly byte[] _send;
    private readonly int _headerLength;
    private readonly int _payloadLength;
    private readonly byte[] _receive;
    private readonly byte[] _from = new byte[RawUdp.SockaddrInLength];
    private readonly IPEndPoint _echo;
    private readonly int _ringMask;
    private readonly long[] _sentAt;
    private readonly bool[] _acked;
    private readonly bool _allowUnsolicited;
    private long _nextSeq;
    private long _oldest;

    /// <param name="allowUnsolicited">
    /// Replies whose SOCKS header names another source than the echo target (a stranger the
    /// relay's filtering let in, <c>load --flood stranger</c>) are counted <see cref="Unsolicited"/>, not invalid.
    /// </param>
    public Flow(int id, IPEndPoint? proxy, IPEndPoint echo, int payloadLength, int window, bool small = false, bool allowUnsolicited = false)
    {
        _allowUnsolicited = allowUnsolicited;
        // small: many idle flows (scale, churn) need neither 64 KiB buffers nor 4 MiB socket buffers.
        _receive = new byte[small ? Math.Max(2048, payloadLength + 512) : 65_536];
        Id = id;
        _echo = echo;
        _payloadLength = Math.Max(PayloadPrefix, payloadLength);
        if (proxy is not null)
        {
            _control = SocksControl.Associate(proxy);
        }

        _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (!small)
            {
                _udp.ReceiveBufferSize = 4 << 20;
                _udp.SendBufferSize = 4 << 20;
            }

            _udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        }
        catch
        {
            _udp.Dispose();
            _control?.Dispose();
            throw;
        }

        _fd = RawUdp.Fd(_udp);
        _sendTo = RawUdp.Sockaddr(_control?.Relay ?? echo);
        _headerLength = _control is null ? 0 : UdpRequestHeader.Write(stackalloc byte[UdpRequestHeader.MaxLength], echo.Address, (ushort)echo.Port);
        _send = new byte[_headerLength + _payloadLength];
        if (_control is not null)
        {
            UdpRequestHeader.Write(_send, echo.Address, (ushort)echo.Port);
        }

        var payload = _send.AsSpan(_headerLength);
        BinaryPrimitives.WriteInt32LittleEndian(payload, id);
        for (int i = PayloadPrefix; i < payload.Length; i++)
        {
            payload[i] = (byte)((i * 31) + id);
        }

        int ring = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, window));
        _ringMask = ring - 1;
        _sentAt = new long[ring];
        _acked = new bool[ring];
    }

    public int Id { get; }

    public Socket Socket => _udp;

    /// <summary>The relay's UDP address (null for the direct baseline).</summary>
    public IPEndPoint? Relay => _control?.Relay;

    public int Outstanding => (int)(_nextSeq - _oldest);

    public long Sent { get; private set; }

    public long Received { get; private set; }

    public long Invalid { get; private set; }

    public long Late { get; private set; }

    public long Lost { get; private set; }

    public long SendFailed { get; private set; }

    /// <summary>Datagrams from sources the flow never sent to (only counted with <c>allowUnsolicited</c>).</summary>
    public long Unsolicited { get; private set; }

    /// <summary>A description of the first invalid reply, for the smoke test's message.</summary>
    public string? FirstInvalid { get; private set; }

    public bool TrySend(long now)
    {
        if (Outstanding > _ringMask)
        {
            return false;
        }

        long seq = _nextSeq;
        BinaryPrimitives.WriteInt64LittleEndian(_send.AsSpan(_headerLength + 4), seq);
        if (!RawUdp.Send(_fd, _send, _sendTo))
        {
            SendFailed++;
            return false;
        }

        _sentAt[seq & _ringMask] = now;
        _acked[seq & _ringMask] = false;
        _nextSeq++;
        Sent++;
        return true;
    }

    /// <summary>
    /// Reads what is queued. For each valid reply, records its round-trip time and, while
    /// <paramref name="refill"/>, sends the next datagram. Returns the number of valid replies.
    /// </summary>
    public int Drain(LatencyHistogram? histogram, bool refill) => Drain(histogram, refill, wait: false);

    /// <summary>
    /// The ping-pong form of <see cref="Drain(LatencyHistogram?, bool)"/>: waits (up to the socket's
    /// receive timeout) for one reply and takes only that one, so a round trip costs the tool one
    /// send and one receive, no readiness wait and no read that finds nothing.
    /// </summary>
    public int WaitOne(LatencyHistogram? histogram, bool refill = true) => Drain(histogram, refill, wait: true);

    private int Drain(LatencyHistogram? histogram, bool refill, bool wait)
    {
        int valid = 0;
        for (int budget = 0; budget < (wait ? 1 : 256); budget++)
        {
            int n = RawUdp.Receive(_fd, _receive, _from, wait);
            if (n <= 0)
            {
                break; // nothing more, or an error (which UDP here only reports for earlier sends)
            }

            long now = Stopwatch.GetTimestamp();
            long seq = Check(_receive.AsSpan(0, n));
            if (seq < 0)
            {
                continue;
            }

            if (seq < _oldest || seq >= _nextSeq || _acked[seq & _ringMask])
            {
                Late++;
                continue;
            }

            _acked[seq & _ringMask] = true;
            Received++;
            valid++;
            histogram?.Record((long)((now - _sentAt[seq & _ringMask]) * NanosecondsPerTick));
            while (_oldest < _nextSeq && _acked[_oldest & _ringMask])
            {
                _oldest++;
            }

            if (refill)
            {
                TrySend(now);
            }
        }

        return valid;
    }

    /// <summary>Gives up on datagrams older than <paramref name="timeoutTicks"/> (counted lost) so the window refills.</summary>
    public int ExpireLost(long now, long timeoutTicks)
    {
        int expired = 0;
        while (_oldest < _nextSeq && (_acked[_oldest & _ringMask] || now - _sentAt[_oldest & _ringMask] > timeoutTicks))
        {
            if (!_acked[_oldest & _ringMask])
            {
                Lost++;
                expired++;
            }

            _oldest++;
        }

        return expired;
    }

    /// <summary>Counts whatever is still in flight as lost (the end of a run).</summary>
    public void GiveUp()
    {
        ExpireLost(long.MaxValue, -1);
    }

    public void Dispose()
    {
        _udp.Dispose();
        _control?.Dispose();
    }

    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    /// <summary>The reply's sequence number, or -1 (counted invalid) when anything about it is wrong.</summary>
    private long Check(ReadOnlySpan<byte> datagram)
    {
        string? problem = null;
        if (!_from.AsSpan(0, 8).SequenceEqual(_sendTo.AsSpan(0, 8)))
        {
            problem = "reply from an unexpected source";
        }
        else
        {
            var payload = datagram;
            if (_control is not null)
            {
                if (!UdpRequestHeader.TryParse(datagram, out byte frag, out var source, out int headerLength) || frag != 0)
                {
                    problem = "reply header does not parse";
                }
                else if (source.Type != AddressType.IPv4 || source.Port != _echo.Port || !source.AddressBytes.SequenceEqual(_send.AsSpan(4, 4)))
                {
                    if (_allowUnsolicited)
                    {
                        Unsolicited++;
                        return -1;
                    }

                    problem = "reply header does not name the echo target";
                }

                payload = headerLength <= datagram.Length ? datagram[headerLength..] : default;
            }

            if (problem is null)
            {
                if (payload.Length != _payloadLength)
                {
                    problem = $"reply payload of {payload.Length} bytes, sent {_payloadLength}";
                }
                else if (BinaryPrimitives.ReadInt32LittleEndian(payload) != Id)
                {
                    problem = "reply of another flow";
                }
                else if (!payload[PayloadPrefix..].SequenceEqual(_send.AsSpan(_headerLength + PayloadPrefix)))
                {
                    problem = "reply content differs";
                }
                else
                {
                    return BinaryPrimitives.ReadInt64LittleEndian(payload[4..]);
                }
            }
        }

        Invalid++;
        FirstInvalid ??= problem;
        return -1;
    }
}
