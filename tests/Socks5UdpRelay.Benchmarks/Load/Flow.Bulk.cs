using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Socks5UdpRelay.Server;
using Socks5UdpRelay.Server.Transport.Epoll;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// The bulk workload's side of a flow, as QUIC stacks (quinn, quiche, msquic) send: a burst of
/// equal-sized datagrams, each with its own sequence number, leaves in one sendmsg with
/// UDP_SEGMENT (GSO), and the socket reads with UDP_GRO, so one read may hold several replies,
/// each checked as any reply is. Where nothing coalesces (a relay that sends one by one), a read
/// holds one reply and the flow works the same.
/// </summary>
internal sealed unsafe partial class Flow
{
    private const int ControlSize = 128;
    private int _burst;
    private byte[] _burstBuffer = [];
    private readonly byte[] _controlBuffer = new byte[ControlSize];

    /// <summary>Reads of the bulk workload that held several replies (GRO).</summary>
    public long CoalescedReads { get; private set; }

    private void StartBulk(int burst)
    {
        _burst = Math.Min(burst, UdpSegmentation.MaxSegments);
        _burstBuffer = new byte[_burst * _send.Length];
        for (int k = 0; k < _burst; k++)
        {
            _send.CopyTo(_burstBuffer, k * _send.Length);
        }

        _udp.SetRawSocketOption(Interop.SocketOptions.SOL_UDP, Interop.SocketOptions.UDP_GRO, BitConverter.GetBytes(1));
    }

    /// <summary>Sends as many datagrams as the window has room for, up to a burst, in one GSO send; false when none went.</summary>
    private bool TrySendBurst(long now)
    {
        int count = Math.Min(_burst, _ringMask + 1 - Outstanding);
        if (count <= 0)
        {
            return false;
        }

        int size = _send.Length;
        for (int k = 0; k < count; k++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_burstBuffer.AsSpan((k * size) + _headerLength + 4), _nextSeq + k);
        }

        byte* control = stackalloc byte[UdpSegmentation.ControlSpace];
        UdpSegmentation.WriteSegmentSize(new Span<byte>(control, UdpSegmentation.ControlSpace), size);
        int sent;
        fixed (byte* data = _burstBuffer)
        fixed (byte* name = _sendTo)
        {
            var iov = new Interop.IoVec { Base = data, Length = (nuint)(count * size) };
            var message = new Interop.MMsgHdr
            {
                Header = new Interop.MsgHdr
                {
                    Name = name,
                    NameLength = (uint)_sendTo.Length,
                    Iov = &iov,
                    IovLength = 1,
                    Control = count > 1 ? control : null,
                    ControlLength = count > 1 ? UdpSegmentation.ControlSpace : 0u,
                },
            };
            sent = Interop.Sys.SendMmsg(_udp.SafeHandle, &message, 1, 0);
        }

        if (sent != 1)
        {
            SendFailed++;
            return false;
        }

        for (int k = 0; k < count; k++)
        {
            _sentAt[_nextSeq & _ringMask] = now;
            _acked[_nextSeq & _ringMask] = false;
            _nextSeq++;
            Sent++;
        }

        return true;
    }

    /// <summary>Reads what is queued, each read split into the replies it holds; refills the window in bursts at the end.</summary>
    private int DrainBulk(LatencyHistogram? histogram, bool refill)
    {
        int valid = 0;
        long now = Stopwatch.GetTimestamp();
        for (int budget = 0; budget < 256; budget++)
        {
            int n = ReceiveCoalesced(out int segment);
            if (n <= 0)
            {
                break;
            }

            now = Stopwatch.GetTimestamp();
            int step = segment > 0 && segment < n ? segment : n;
            if (step < n)
            {
                CoalescedReads++;
            }

            for (int offset = 0; offset < n; offset += step)
            {
                valid += Accept(Check(_receive.AsSpan(offset, Math.Min(step, n - offset))), histogram, refill: false);
            }
        }

        while (refill && _ringMask + 1 - Outstanding >= _burst && TrySendBurst(now))
        {
        }

        return valid;
    }

    /// <summary>One read without waiting: its length (0 when nothing is queued, negative on an error) and the GRO segment size (0: one datagram).</summary>
    private int ReceiveCoalesced(out int segment)
    {
        segment = 0;
        fixed (byte* data = _receive)
        fixed (byte* name = _from)
        fixed (byte* control = _controlBuffer)
        {
            var iov = new Interop.IoVec { Base = data, Length = (nuint)_receive.Length };
            var message = new Interop.MsgHdr { Name = name, NameLength = (uint)_from.Length, Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlSize };
            nint n = Interop.Sys.RecvMsg(_udp.SafeHandle, &message, Interop.MessageFlags.MSG_DONTWAIT);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                return errno == Interop.Errno.EAGAIN ? 0 : -errno;
            }

            segment = UdpSegmentation.ReadSegmentSize(new ReadOnlySpan<byte>(control, (int)message.ControlLength));
            return (int)n;
        }
    }
}
