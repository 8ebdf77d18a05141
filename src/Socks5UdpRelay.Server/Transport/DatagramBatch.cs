using System.Runtime.InteropServices;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Transport.Epoll;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport;

/// <summary>
/// The datagrams of up to <see cref="Capacity"/> reads from one socket in one <c>recvmmsg</c>, in
/// native buffers owned by one loop thread and reused for every read. A read of a socket with GRO
/// on may hold several datagrams of one flow, coalesced by the kernel (ARCHITECTURE.md,
/// "Segmentation offload"): the batch presents each as a datagram of its own (<see cref="Count"/>,
/// <see cref="Payload"/>, <see cref="Source"/>). A datagram's way back to the client leaves behind
/// a reply header that is kept beside it, never written into the data: one header shared by the
/// whole batch (<see cref="ShareReplyHeader"/>, a destination's replies) or one per datagram
/// (<see cref="ReplyHeader(int, int)"/>, unsolicited datagrams from many sources). The slots are
/// virtual memory until a datagram touches them: small datagrams keep one page of each resident.
/// </summary>
internal sealed unsafe class DatagramBatch : IDisposable
{
    /// <summary>Reads one <c>recvmmsg</c> takes.</summary>
    public const int Capacity = 32;

    /// <summary>The most datagrams one GRO read may hold (UDP_MAX_SEGMENTS is 128 since Linux 6.11; GRO itself stops at 64).</summary>
    public const int MaxSegmentsPerRead = 128;

    /// <summary>The most datagrams a batch holds.</summary>
    public const int MaxDatagrams = Capacity * MaxSegmentsPerRead;

    /// <summary>
    /// Room in front of each read for a header (<see cref="Frame"/>): the longest one names an IPv6
    /// source (22 bytes), and a UDP-over-TCP frame of a mapping needs 2 more (<see cref="UdpOverTcpFrame.RewriteUdpHeader"/>).
    /// </summary>
    public const int HeaderRoom = UdpRequestHeader.IPv6Length + UdpOverTcpFrame.MappingLength;

    /// <summary>The largest UDP payload, and then some: nothing is ever truncated silently; a GRO read is at most this long too.</summary>
    public const int MaxPayload = 65_536;

    private const int SlotSize = HeaderRoom + MaxPayload;
    private const int AddressSize = 32; // sockaddr_in6 (28), rounded up

    /// <summary>A read's control area: UDP_GRO (24 bytes) and the TTL the error queue asked for (IP_TTL / IPV6_HOPLIMIT, 24), with room to spare.</summary>
    private const int ControlSize = 128;

    private readonly MMsgHdr* _messages;
    private readonly IoVec* _iovecs;
    private readonly byte* _addresses;
    private readonly byte* _control;
    private readonly byte* _data;
    private readonly byte* _headers;
    private readonly byte* _sharedHeader;
    private readonly int _maxDatagrams;

    // Datagram i: its payload's offset in _data, its length, the read it came in, whether it is left out.
    private readonly int[] _offsets;
    private readonly int[] _lengths;
    private readonly byte[] _reads;
    private readonly bool[] _dropped;
    private int _touched = Capacity;
    private bool _withAddresses;
    private bool _withSegments;
    private bool _headerShared;
    private int _disposed;

    /// <param name="segmented">Whether reads may hold several datagrams (GRO): sizes the datagram table for <see cref="MaxDatagrams"/> rather than <see cref="Capacity"/>.</param>
    public DatagramBatch(bool segmented = true)
    {
        _maxDatagrams = segmented ? MaxDatagrams : Capacity;
        _messages = (MMsgHdr*)NativeMemory.AllocZeroed(Capacity, (nuint)sizeof(MMsgHdr));
        _iovecs = (IoVec*)NativeMemory.AllocZeroed(Capacity, (nuint)sizeof(IoVec));
        _addresses = (byte*)NativeMemory.AllocZeroed(Capacity, AddressSize);
        _control = segmented ? (byte*)NativeMemory.AllocZeroed(Capacity, ControlSize) : null; // only GRO reads have a control area to read
        _data = (byte*)NativeMemory.Alloc(Capacity, SlotSize);
        _headers = (byte*)NativeMemory.Alloc((nuint)_maxDatagrams, HeaderRoom);
        _sharedHeader = (byte*)NativeMemory.AllocZeroed(HeaderRoom);
        _offsets = new int[_maxDatagrams];
        _lengths = new int[_maxDatagrams];
        _reads = new byte[_maxDatagrams];
        _dropped = new bool[_maxDatagrams];
        for (int i = 0; i < Capacity; i++)
        {
            _iovecs[i] = new IoVec { Base = _data + SlotPayload(i), Length = MaxPayload };
            _messages[i].Header.Iov = _iovecs + i;
            _messages[i].Header.IovLength = 1;
        }
    }

    /// <summary>Datagrams in the batch: of the last read, each datagram of a GRO read counted alone.</summary>
    public int Count { get; private set; }

    /// <summary>Reads (GRO buffers) of the last <see cref="Receive"/> that held more than one datagram.</summary>
    public int CoalescedReads { get; private set; }

    /// <summary>The payload of datagram <paramref name="i"/>.</summary>
    public Span<byte> Payload(int i) => new(_data + _offsets[i], _lengths[i]);

    /// <summary>The raw source address (sockaddr) of datagram <paramref name="i"/>, when the read asked for sources.</summary>
    public ReadOnlySpan<byte> Source(int i)
    {
        int read = _reads[i];
        return new(_addresses + (read * AddressSize), (int)Math.Min(_messages[read].Header.NameLength, AddressSize));
    }

    /// <summary>
    /// Datagram <paramref name="i"/> with <paramref name="headerLength"/> bytes in front (at most
    /// <see cref="HeaderRoom"/>) to write a header into, for a consumer that sends datagrams one at
    /// a time (UDP over TCP). The first datagram of a read has that room of its own; for the next
    /// ones of a GRO read it is the end of those before them, so take frames in order and only
    /// once the earlier ones have been sent.
    /// </summary>
    public Span<byte> Frame(int i, int headerLength)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)headerLength, (uint)HeaderRoom, nameof(headerLength));
        return new(_data + _offsets[i] - headerLength, headerLength + _lengths[i]);
    }

    /// <summary>Leaves datagram <paramref name="i"/> out of what is sent on from this batch.</summary>
    public void Drop(int i) => _dropped[i] = true;

    public bool IsDropped(int i) => _dropped[i];

    /// <summary>The length of the reply headers set for this batch (0: none yet).</summary>
    public int ReplyHeaderLength { get; private set; }

    /// <summary>Every datagram of the batch goes back to the client behind <paramref name="header"/> (copied).</summary>
    public void ShareReplyHeader(ReadOnlySpan<byte> header)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(header.Length, HeaderRoom, nameof(header));
        header.CopyTo(new Span<byte>(_sharedHeader, HeaderRoom));
        ReplyHeaderLength = header.Length;
        _headerShared = true;
    }

    /// <summary>
    /// Datagram <paramref name="i"/> goes back behind a header of its own: the
    /// <paramref name="length"/> bytes returned, to be written by the caller. Every header of a
    /// batch has the same length (one socket reads one address family).
    /// </summary>
    public Span<byte> ReplyHeader(int i, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)HeaderRoom, nameof(length));
        ReplyHeaderLength = length;
        _headerShared = false;
        return new Span<byte>(_headers + (i * HeaderRoom), length);
    }

    /// <summary>The reply header of datagram <paramref name="i"/>, as set for the batch.</summary>
    public ReadOnlySpan<byte> ReplyHeaderOf(int i) => new(ReplyHeaderPointer(i), ReplyHeaderLength);

    /// <summary>Where datagram <paramref name="i"/>'s payload lies: native memory that stays put until the batch is read again.</summary>
    internal byte* PayloadPointer(int i) => _data + _offsets[i];

    /// <summary>Where datagram <paramref name="i"/>'s reply header lies, native as the payload.</summary>
    internal byte* ReplyHeaderPointer(int i) => _headerShared ? _sharedHeader : _headers + (i * HeaderRoom);

    /// <summary>Whether <paramref name="span"/> lies in this batch's data: what may be queued for a later send without a copy.</summary>
    public bool Holds(ReadOnlySpan<byte> span)
    {
        byte* start = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
        return start >= _data && start + span.Length <= _data + ((long)Capacity * SlotSize);
    }

    /// <summary>
    /// Takes what is queued on <paramref name="socket"/>, up to <see cref="Capacity"/> reads,
    /// without waiting; fewer than <see cref="Capacity"/> means the queue is empty (or an error
    /// stopped the batch; the kernel keeps it for the next call). <paramref name="withSegments"/>:
    /// the socket has GRO on, so each read's control area says whether it holds several
    /// datagrams. Returns the reads (0 when nothing was queued; <see cref="Count"/> has the
    /// datagrams), or minus the errno of a pending error, which the kernel reports (and clears)
    /// before any datagram.
    /// </summary>
    public int Receive(SafeHandle socket, bool withAddresses, bool withSegments = false)
    {
        if (withSegments && _maxDatagrams == Capacity)
        {
            throw new InvalidOperationException("This batch was made for one datagram per read.");
        }

        // The kernel rewrites msg_namelen, msg_controllen and msg_flags of the headers it filled:
        // reset those, or all of them when another kind of socket was read last.
        int reset = withAddresses == _withAddresses && withSegments == _withSegments ? _touched : Capacity;
        _withAddresses = withAddresses;
        _withSegments = withSegments;
        _touched = Capacity; // until a call succeeds, all of them may have been touched
        Count = 0;
        CoalescedReads = 0;
        ReplyHeaderLength = 0;
        for (int i = 0; i < reset; i++)
        {
            ref var header = ref _messages[i].Header;
            header.Name = withAddresses ? _addresses + (i * AddressSize) : null;
            header.NameLength = withAddresses ? AddressSize : 0u;
            header.Control = withSegments ? _control + (i * ControlSize) : null;
            header.ControlLength = withSegments ? ControlSize : 0u;
            header.Flags = 0;
        }

        while (true)
        {
            int n;
            try
            {
                n = Sys.RecvMmsg(socket, _messages, Capacity, MessageFlags.MSG_DONTWAIT, null);
            }
            catch (ObjectDisposedException)
            {
                return 0;
            }

            if (n >= 0)
            {
                _touched = n;
                Split(n);
                return n;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                return errno == Errno.EAGAIN ? 0 : -errno;
            }
        }
    }

    /// <summary>Empties the batch for <see cref="TryAppend"/>.</summary>
    public void Clear()
    {
        Count = 0;
        CoalescedReads = 0;
        ReplyHeaderLength = 0;
        _touched = Capacity;
    }

    /// <summary>
    /// Adds a datagram of <paramref name="length"/> bytes from <paramref name="source"/> (a raw
    /// socket address) as a read would, and returns its payload for the caller to fill: how
    /// datagrams that did not come from a UDP socket (UDP over TCP) enter the relay. False when
    /// the batch is full.
    /// </summary>
    public bool TryAppend(int length, ReadOnlySpan<byte> source, out Span<byte> payload)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)MaxPayload, nameof(length));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(source.Length, AddressSize, nameof(source));
        if (Count == Capacity)
        {
            payload = default;
            return false;
        }

        int i = Count++;
        source.CopyTo(new Span<byte>(_addresses + (i * AddressSize), AddressSize));
        _messages[i].Header.NameLength = (uint)source.Length;
        Set(i, i, SlotPayload(i), length);
        payload = Payload(i);
        return true;
    }

    /// <summary>Puts datagrams into the batch as a read would, one per read: how the engine's test double delivers datagrams.</summary>
    public void Load(ReadOnlySpan<byte[]> payloads, ReadOnlySpan<byte> source = default)
    {
        if (payloads.Length > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(payloads), $"A batch holds {Capacity} reads.");
        }

        Clear();
        for (int i = 0; i < payloads.Length; i++)
        {
            payloads[i].CopyTo(new Span<byte>(_data + SlotPayload(i), MaxPayload));
            source.CopyTo(new Span<byte>(_addresses + (i * AddressSize), AddressSize));
            _messages[i].Header.NameLength = (uint)source.Length;
            Set(i, i, SlotPayload(i), payloads[i].Length);
        }

        Count = payloads.Length;
    }

    /// <summary>
    /// Puts one GRO read into the batch: <paramref name="buffer"/> holding datagrams of
    /// <paramref name="segmentSize"/> bytes (the last may be shorter), as the kernel coalesces them.
    /// For the engine's test double.
    /// </summary>
    public void LoadCoalesced(ReadOnlySpan<byte> buffer, int segmentSize, ReadOnlySpan<byte> source = default)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(buffer.Length, MaxPayload, nameof(buffer));
        if (_maxDatagrams == Capacity)
        {
            throw new InvalidOperationException("This batch was made for one datagram per read.");
        }

        Clear();
        buffer.CopyTo(new Span<byte>(_data + SlotPayload(0), MaxPayload));
        source.CopyTo(new Span<byte>(_addresses, AddressSize));
        _messages[0].Header.NameLength = (uint)source.Length;
        _messages[0].Length = (uint)buffer.Length;
        Count = SplitRead(0, 0, buffer.Length, segmentSize);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            NativeMemory.Free(_messages);
            NativeMemory.Free(_iovecs);
            NativeMemory.Free(_addresses);
            NativeMemory.Free(_control); // a no-op when the batch has none
            NativeMemory.Free(_data);
            NativeMemory.Free(_headers);
            NativeMemory.Free(_sharedHeader);
        }
    }

    /// <summary>Reads the kernel cut short (<c>MSG_TRUNC</c>), dropped whole.</summary>
    public long TruncatedReads { get; private set; }

    private static long SlotPayload(int read) => ((long)read * SlotSize) + HeaderRoom;

    /// <summary>The datagram table for <paramref name="reads"/> fresh reads.</summary>
    private void Split(int reads)
    {
        int count = 0;
        for (int r = 0; r < reads; r++)
        {
            if ((_messages[r].Header.Flags & Interop.MessageFlags.MSG_TRUNC) != 0)
            {
                // Longer than its slot: only a coalesced read on a host that raised gro_max_size past 64 KiB
                // can be. Its last datagram would go on cut short: none of it is relayed, and it is counted.
                TruncatedReads++;
                continue;
            }

            int length = (int)_messages[r].Length;
            int segment = _withSegments
                ? UdpSegmentation.ReadSegmentSize(new ReadOnlySpan<byte>(_control + (r * ControlSize), (int)Math.Min(_messages[r].Header.ControlLength, ControlSize)))
                : 0;
            count = SplitRead(r, count, length, segment);
        }

        Count = count;
    }

    /// <summary>Adds read <paramref name="read"/>'s datagrams from <paramref name="index"/> on; returns the next free index.</summary>
    private int SplitRead(int read, int index, int length, int segment)
    {
        if (segment <= 0 || length <= segment)
        {
            Set(index, read, SlotPayload(read), length);
            return index + 1;
        }

        int parts = (length + segment - 1) / segment;
        if (parts > MaxSegmentsPerRead)
        {
            return index; // more than any kernel coalesces: not datagrams the relay can tell apart, so none is relayed
        }

        for (int k = 0; k < parts; k++)
        {
            Set(index + k, read, SlotPayload(read) + ((long)k * segment), Math.Min(segment, length - (k * segment)));
        }

        CoalescedReads++;
        return index + parts;
    }

    private void Set(int i, int read, long offset, int length)
    {
        _offsets[i] = (int)offset;
        _lengths[i] = length;
        _reads[i] = (byte)read;
        _dropped[i] = false;
    }
}
