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
/// source), its length, its flow and sequence, and the pattern byte for byte. Over TCP (the
/// README's "UDP over TCP", with the notices opt-in as s5nc asks for it) the datagrams are frames
/// on the control connection, which is then the socket the engine waits on; control frames are skipped.
/// </summary>
internal sealed partial class Flow : IDisposable
{
    public const int PayloadPrefix = 12;

    private readonly SocksControl? _control;
    private readonly Socket _udp;
    private readonly byte[]? _stream; // over TCP: bytes read and not yet framed
    private int _streamed;
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

    /// <param name="burst">Datagrams per GSO send, read back with GRO (the bulk workload, Flow.Bulk.cs); 0: one send and one read per datagram.</param>
    /// <param name="bind">The address the flow's UDP socket binds (default 127.0.0.1; the gateway benchmark binds its namespace's own).</param>
    /// <param name="allowUnsolicited">
    /// Replies whose SOCKS header names another source than the echo target (a stranger the
    /// relay's filtering let in, <c>load --flood stranger</c>) are counted <see cref="Unsolicited"/>, not invalid.
    /// </param>
    public Flow(int id, IPEndPoint? proxy, IPEndPoint echo, int payloadLength, int window, bool small = false, bool overTcp = false, int burst = 0, IPAddress? bind = null, bool allowUnsolicited = false)
    {
        _allowUnsolicited = allowUnsolicited;
        if (overTcp)
        {
            ArgumentNullException.ThrowIfNull(proxy);
            _control = SocksControl.OverTcp(proxy);
            _udp = _control.Tcp;
            // Two of the largest frames: a partial one moved to the front always has room for its rest.
            _stream = new byte[2 * (UdpOverTcpFrame.MaxHeaderLength + UdpOverTcpFrame.MaxData)];
            _streamed = _control.TakeBuffered(_stream);
        }

        // small: many idle flows (scale, churn) need neither 64 KiB buffers nor 4 MiB socket buffers.
        _receive = new byte[small ? Math.Max(2048, payloadLength + 512) : 65_536];
        Id = id;
        _echo = echo;
        _payloadLength = Math.Max(PayloadPrefix, payloadLength);
        if (proxy is not null && !overTcp)
        {
            _control = SocksControl.Associate(proxy);
        }

        _udp ??= new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (!small)
            {
                _udp.ReceiveBufferSize = 4 << 20;
                _udp.SendBufferSize = 4 << 20;
            }

            if (!overTcp)
            {
                _udp.Bind(new IPEndPoint(bind ?? IPAddress.Loopback, 0));
            }
        }
        catch
        {
            _udp.Dispose();
            _control?.Dispose();
            throw;
        }

        _fd = RawUdp.Fd(_udp);
        _sendTo = RawUdp.Sockaddr(_control?.Relay ?? echo);
        // A frame's header is as long as the SOCKS UDP header, and the address sits at the same offset (4) in both.
        _headerLength = _control is null ? 0 : UdpRequestHeader.Write(stackalloc byte[UdpRequestHeader.MaxLength], echo.Address, (ushort)echo.Port);
        _send = new byte[_headerLength + _payloadLength];
        if (overTcp)
        {
            Span<byte> scratch = stackalloc byte[16];
            UdpOverTcpFrame.WriteDatagramHeader(_send, SocksAddress.FromIPEndPoint(echo, scratch), _payloadLength);
        }
        else if (_control is not null)
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
        if (burst > 1)
        {
            StartBulk(burst);
        }
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
        if (_burst > 1)
        {
            return TrySendBurst(now);
        }

        if (Outstanding > _ringMask)
        {
            return false;
        }

        long seq = _nextSeq;
        BinaryPrimitives.WriteInt64LittleEndian(_send.AsSpan(_headerLength + 4), seq);
        if (_stream is not null ? !SendFrame() : !RawUdp.Send(_fd, _send, _sendTo))
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
        if (_stream is not null)
        {
            return DrainFrames(histogram, refill, wait);
        }

        if (_burst > 1)
        {
            return DrainBulk(histogram, refill);
        }

        int valid = 0;
        for (int budget = 0; budget < (wait ? 1 : 256); budget++)
        {
            int n = RawUdp.Receive(_fd, _receive, _from, wait);
            if (n <= 0)
            {
                break; // nothing more, or an error (which UDP here only reports for earlier sends)
            }

            valid += Accept(Check(_receive.AsSpan(0, n)), histogram, refill);
        }

        return valid;
    }

    /// <summary>Over TCP: reads what is queued and takes every whole datagram frame in it.</summary>
    private int DrainFrames(LatencyHistogram? histogram, bool refill, bool wait)
    {
        int valid = 0;
        for (int budget = 0; budget < (wait ? 1 : 16); budget++)
        {
            int n = RawUdp.Receive(_fd, _stream.AsSpan(_streamed), _from, wait);
            if (n <= 0)
            {
                break; // nothing more (or the connection ended: the run's clock ends the flow)
            }

            _streamed += n;
            int offset = 0;
            while (true)
            {
                var status = UdpOverTcpFrame.TryRead(_stream.AsSpan(offset, _streamed - offset), extended: true, UdpOverTcpFrame.MaxData, out var frame, out int consumed);
                if (status == System.Buffers.OperationStatus.InvalidData)
                {
                    Invalid++;
                    FirstInvalid ??= "a malformed frame";
                    offset = _streamed;
                    break;
                }

                if (status == System.Buffers.OperationStatus.NeedMoreData)
                {
                    break;
                }

                offset += consumed;
                if (frame.Kind == UdpFrameKind.Datagram)
                {
                    valid += Accept(CheckFrame(frame), histogram, refill);
                }
            }

            _stream.AsSpan(offset, _streamed - offset).CopyTo(_stream);
            _streamed -= offset;
        }

        return valid;
    }

    /// <summary>Books the reply of sequence <paramref name="seq"/> (-1: invalid); 1 when it was valid and new.</summary>
    private int Accept(long seq, LatencyHistogram? histogram, bool refill)
    {
        if (seq < 0)
        {
            return 0;
        }

        long now = Stopwatch.GetTimestamp();
        if (seq < _oldest || seq >= _nextSeq || _acked[seq & _ringMask])
        {
            Late++;
            return 0;
        }

        _acked[seq & _ringMask] = true;
        Received++;
        histogram?.Record((long)((now - _sentAt[seq & _ringMask]) * NanosecondsPerTick));
        while (_oldest < _nextSeq && _acked[_oldest & _ringMask])
        {
            _oldest++;
        }

        if (refill)
        {
            TrySend(now);
        }

        return 1;
    }

    /// <summary>A whole frame on the blocking TCP socket (a partial send is finished, never left half-way).</summary>
    private bool SendFrame()
    {
        int sent = 0;
        while (sent < _send.Length)
        {
            int n = _udp.Send(_send.AsSpan(sent), SocketFlags.None, out var error);
            if (error != SocketError.Success)
            {
                return false;
            }

            sent += n;
        }

        return true;
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
        if (!_from.AsSpan(0, 8).SequenceEqual(_sendTo.AsSpan(0, 8)))
        {
            return Reject("reply from an unexpected source");
        }

        var payload = datagram;
        if (_control is not null)
        {
            if (!UdpRequestHeader.TryParse(datagram, out byte frag, out var source, out int headerLength) || frag != 0)
            {
                return Reject("reply header does not parse");
            }

            if (!IsEcho(source))
            {
                return Unsolicit("reply header does not name the echo target");
            }

            payload = datagram[headerLength..];
        }

        return CheckPayload(payload);
    }

    private long CheckFrame(in UdpFrame frame) => frame.Mapping != 0 ? Reject("reply frame of another mapping")
        : IsEcho(frame.Address) ? CheckPayload(frame.Data)
        : Unsolicit("reply frame does not name the echo target");

    private bool IsEcho(in SocksAddress source)
        => source.Type == AddressType.IPv4 && source.Port == _echo.Port && source.AddressBytes.SequenceEqual(_send.AsSpan(4, 4));

    private long CheckPayload(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != _payloadLength)
        {
            return Reject($"reply payload of {payload.Length} bytes, sent {_payloadLength}");
        }

        if (BinaryPrimitives.ReadInt32LittleEndian(payload) != Id)
        {
            return Reject("reply of another flow");
        }

        return payload[PayloadPrefix..].SequenceEqual(_send.AsSpan(_headerLength + PayloadPrefix))
            ? BinaryPrimitives.ReadInt64LittleEndian(payload[4..])
            : Reject("reply content differs");
    }

    /// <summary>A datagram from another source than the echo target: an admitted stranger's when that is allowed, else invalid.</summary>
    private long Unsolicit(string problem)
    {
        if (!_allowUnsolicited)
        {
            return Reject(problem);
        }

        Unsolicited++;
        return -1;
    }

    private long Reject(string problem)
    {
        Invalid++;
        FirstInvalid ??= problem;
        return -1;
    }
}
