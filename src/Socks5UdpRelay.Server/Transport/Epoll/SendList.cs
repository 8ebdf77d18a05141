using System.Runtime.InteropServices;
using Socks5UdpRelay.Server.Icmp;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// Datagrams to one address (or on one connected socket), sent with as few system calls as the
/// kernel allows: one <c>sendmmsg</c> whose messages are runs of equal-sized datagrams sent with
/// GSO (<see cref="UdpSegmentation.RunLength"/>), or single datagrams. Each datagram is a header
/// and a payload (or a payload alone), gathered by vectors that point where they lie (no copy):
/// the reply header kept beside a batch, or the batch's payload. Where the kernel or the path
/// refuses a segmented send, the socket remembers it (<c>maxSegment</c>) and the same datagrams
/// go one by one (ARCHITECTURE.md, "Segmentation offload"). One per loop thread.
/// </summary>
internal sealed unsafe class SendList : IDisposable
{
    public const int MaxDatagrams = DatagramBatch.MaxDatagrams;

    private readonly MMsgHdr* _messages;
    private readonly IoVec* _iovecs;
    private readonly byte* _control;
    private readonly byte* _address;
    private readonly int[] _lengths = new int[MaxDatagrams];
    private readonly int[] _firstVector = new int[MaxDatagrams + 1];
    private readonly int[] _messageFirst = new int[MaxDatagrams];
    private readonly int[] _messageCount = new int[MaxDatagrams];
    private int _count;
    private int _vectors;
    private uint _addressLength;
    private long _segmentedSends;
    private long _refusals;
    private int _disposed;
    private bool _freed;

    public SendList()
    {
        _messages = (MMsgHdr*)NativeMemory.AllocZeroed(MaxDatagrams, (nuint)sizeof(MMsgHdr));
        _iovecs = (IoVec*)NativeMemory.AllocZeroed(2 * MaxDatagrams, (nuint)sizeof(IoVec));
        _control = (byte*)NativeMemory.AllocZeroed(MaxDatagrams, UdpSegmentation.ControlSpace);
        _address = (byte*)NativeMemory.AllocZeroed(Addressing.RawSocketAddress.MaxLength);
    }

    public int Count => _count;

    /// <summary>Segmented (GSO) sends that went out from this loop.</summary>
    public long SegmentedSends => Volatile.Read(ref _segmentedSends);

    /// <summary>Segmented sends the kernel or the path refused, whose datagrams then went one by one.</summary>
    public long Refusals => Volatile.Read(ref _refusals);

    /// <summary>Starts a list to <paramref name="address"/> (a raw socket address), or on a connected socket when it is empty.</summary>
    public void Begin(ReadOnlySpan<byte> address)
    {
        _count = 0;
        _vectors = 0;
        _freed = IsDisposed; // read once per list, not per datagram
        if (_freed)
        {
            return;
        }

        int length = Math.Min(address.Length, Addressing.RawSocketAddress.MaxLength);
        address[..length].CopyTo(new Span<byte>(_address, Addressing.RawSocketAddress.MaxLength));
        _addressLength = (uint)length;
    }

    /// <summary>
    /// After its loop's thread has ended (a fault, or the stop), work posted to the loop runs
    /// inline and may still reach this list: from then on it only counts what it is given, and
    /// <see cref="Send"/> reports that as failed, never touching the freed native memory.
    /// </summary>
    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Adds a datagram: <paramref name="headerLength"/> bytes at <paramref name="header"/> (none
    /// when 0), then the payload. Both must lie in native memory that stays put until
    /// <see cref="Send"/> (a batch). False when the list is full.
    /// </summary>
    public bool Add(byte* header, int headerLength, byte* payload, int payloadLength)
    {
        if (_count == MaxDatagrams)
        {
            return false;
        }

        if (_freed)
        {
            _count++;
            return true;
        }

        _firstVector[_count] = _vectors;
        if (headerLength > 0)
        {
            _iovecs[_vectors++] = new IoVec { Base = header, Length = (nuint)headerLength };
        }

        _iovecs[_vectors++] = new IoVec { Base = payload, Length = (nuint)payloadLength };
        _lengths[_count] = headerLength + payloadLength;
        _count++;
        _firstVector[_count] = _vectors;
        return true;
    }

    /// <summary>
    /// Sends what was added, without waiting. <paramref name="maxSegment"/> is the socket's: the
    /// largest datagram it may still send segmented (0: none), lowered here when a segmented send
    /// is refused. A datagram the kernel refuses is reported to <paramref name="errors"/> and sent
    /// once more, or, without it, skipped (a single send would have lost it too); a full socket
    /// buffer loses the rest.
    /// </summary>
    public SendOutcome Send(SafeHandle socket, ref int maxSegment, ISendErrors? errors)
    {
        if (_freed)
        {
            return new SendOutcome(0, 0, 0, _count, 0);
        }

        int sent = 0, bufferFull = 0, failed = 0, retried = 0;
        long bytes = 0;
        int limit = maxSegment;
        int messages = Plan(0, 0, limit);
        int next = 0;
        bool again = false;
        while (next < messages)
        {
            int n;
            try
            {
                n = Sys.SendMmsg(socket, _messages + next, (uint)(messages - next), MessageFlags.MSG_DONTWAIT);
            }
            catch (ObjectDisposedException)
            {
                failed += Remaining(next, messages); // closed under us: lost, as for any datagram to a closing association
                break;
            }

            if (n > 0)
            {
                for (int m = next; m < next + n; m++)
                {
                    sent += _messageCount[m];
                    bytes += Bytes(m);
                    if (_messageCount[m] > 1)
                    {
                        _segmentedSends++;
                    }
                }

                next += n;
                again = false;
                continue;
            }

            int errno = n < 0 ? Marshal.GetLastPInvokeError() : Errno.EAGAIN; // 0 sent without an error: stop as if full
            if (errno == Errno.EINTR)
            {
                continue;
            }

            if (errno is Errno.EAGAIN or Errno.ENOBUFS)
            {
                bufferFull += Remaining(next, messages);
                break;
            }

            if (ErrnoTable.IsClosed(errno))
            {
                failed += Remaining(next, messages);
                break;
            }

            // A send that fails on an error the kernel held (an ICMP error for an earlier datagram) sent nothing: report it,
            // then send again. A refused segmented send may be such an error too (EMSGSIZE, ENOPROTOOPT): only if the kernel held none is it a refusal.
            int count = _messageCount[next];
            bool refusal = count > 1 && IsRefusal(errno);
            if (!again && errors is not null && (refusal ? errors.ReportHeld() : errors.OnSendError(errno)))
            {
                again = true;
                retried++;
                continue;
            }

            again = false;
            if (count > 1)
            {
                if (refusal)
                {
                    // The path's MTU is below the segment size (segments leave without DF, so the kernel refuses the send
                    // instead of fragmenting), or segmentation is off for this socket: never an error to report, and remembered.
                    maxSegment = errno == Errno.EMSGSIZE ? Math.Min(maxSegment, _lengths[_messageFirst[next]] - 1) : 0;
                    limit = Math.Min(limit, maxSegment);
                    _refusals++;
                }
                else
                {
                    limit = 0; // failed again after the retry: the rest one by one, so only the datagram that meets the error is lost
                }

                messages = Plan(_messageFirst[next], next, limit);
                continue;
            }

            failed++;
            next++;
        }

        return new SendOutcome(sent, bytes, bufferFull, failed, retried);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            NativeMemory.Free(_messages);
            NativeMemory.Free(_iovecs);
            NativeMemory.Free(_control);
            NativeMemory.Free(_address);
        }
    }

    /// <summary>Builds messages from datagram <paramref name="first"/> on, from message <paramref name="message"/> on; returns the messages in all.</summary>
    private int Plan(int first, int message, int maxSegment)
    {
        var lengths = new ReadOnlySpan<int>(_lengths, 0, _count);
        for (int d = first; d < _count; message++)
        {
            int run = UdpSegmentation.RunLength(lengths, d, maxSegment);
            ref var header = ref _messages[message].Header;
            header.Name = _addressLength > 0 ? _address : null;
            header.NameLength = _addressLength;
            header.Iov = _iovecs + _firstVector[d];
            header.IovLength = (nuint)(_firstVector[d + run] - _firstVector[d]);
            header.Flags = 0;
            if (run > 1)
            {
                byte* control = _control + (message * UdpSegmentation.ControlSpace);
                UdpSegmentation.WriteSegmentSize(new Span<byte>(control, UdpSegmentation.ControlSpace), _lengths[d]);
                header.Control = control;
                header.ControlLength = UdpSegmentation.ControlSpace;
            }
            else
            {
                header.Control = null;
                header.ControlLength = 0;
            }

            _messageFirst[message] = d;
            _messageCount[message] = run;
            d += run;
        }

        return message;
    }

    private long Bytes(int message)
    {
        long total = 0;
        for (int d = _messageFirst[message]; d < _messageFirst[message] + _messageCount[message]; d++)
        {
            total += _lengths[d];
        }

        return total;
    }

    private int Remaining(int message, int messages)
    {
        int total = 0;
        for (int m = message; m < messages; m++)
        {
            total += _messageCount[m];
        }

        return total;
    }

    /// <summary>
    /// The errnos a segmented send fails with when segmentation itself is refused, never because
    /// of an error the kernel held: EMSGSIZE (a segment above the path's MTU), EINVAL (segmentation
    /// off on this socket, or an MTU check of older kernels), EIO (no checksum offload, IPsec),
    /// ENOPROTOOPT/EOPNOTSUPP (no UDP_SEGMENT).
    /// </summary>
    private static bool IsRefusal(int errno) => errno is Errno.EMSGSIZE or Errno.EINVAL or Errno.EIO or Errno.ENOPROTOOPT or Errno.EOPNOTSUPP;
}
