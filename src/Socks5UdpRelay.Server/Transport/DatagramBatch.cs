using System.Runtime.InteropServices;
using Socks5UdpRelay.Protocol;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport;

/// <summary>
/// Up to <see cref="Capacity"/> datagrams read from one socket in one <c>recvmmsg</c>, in native
/// buffers owned by one loop thread and reused for every read. Each slot keeps
/// <see cref="HeaderRoom"/> bytes in front of its payload, so a reply header is written in place
/// (<see cref="Frame"/>) and the replies leave without a copy. The slots are virtual memory until
/// a datagram touches them: small datagrams keep one page of each resident.
/// </summary>
internal sealed unsafe class DatagramBatch : IDisposable
{
    public const int Capacity = 32;

    /// <summary>
    /// Room in front of each payload for a reply header: the longest one names an IPv6 source
    /// (22 bytes), and a UDP-over-TCP frame of a mapping needs 2 more (<see cref="UdpOverTcpFrame.RewriteUdpHeader"/>).
    /// </summary>
    public const int HeaderRoom = UdpRequestHeader.IPv6Length + UdpOverTcpFrame.MappingLength;

    /// <summary>The largest UDP payload, and then some: nothing is ever truncated silently.</summary>
    public const int MaxPayload = 65_536;

    private const int SlotSize = HeaderRoom + MaxPayload;
    private const int AddressSize = 32; // sockaddr_in6 (28), rounded up

    private readonly MMsgHdr* _messages;
    private readonly IoVec* _iovecs;
    private readonly byte* _addresses;
    private readonly byte* _data;
    private readonly bool[] _dropped = new bool[Capacity];
    private int _touched = Capacity;
    private bool _withAddresses;
    private int _disposed;

    public DatagramBatch()
    {
        _messages = (MMsgHdr*)NativeMemory.AllocZeroed(Capacity, (nuint)sizeof(MMsgHdr));
        _iovecs = (IoVec*)NativeMemory.AllocZeroed(Capacity, (nuint)sizeof(IoVec));
        _addresses = (byte*)NativeMemory.AllocZeroed(Capacity, AddressSize);
        _data = (byte*)NativeMemory.Alloc(Capacity, SlotSize);
        for (int i = 0; i < Capacity; i++)
        {
            _iovecs[i] = new IoVec { Base = SlotPayload(i), Length = MaxPayload };
            _messages[i].Header.Iov = _iovecs + i;
            _messages[i].Header.IovLength = 1;
        }
    }

    /// <summary>Datagrams of the last read.</summary>
    public int Count { get; private set; }

    /// <summary>The payload of datagram <paramref name="i"/>.</summary>
    public Span<byte> Payload(int i) => new(SlotPayload(i), (int)_messages[i].Length);

    /// <summary>The raw source address (sockaddr) of datagram <paramref name="i"/>, when the read asked for sources.</summary>
    public ReadOnlySpan<byte> Source(int i) => new(_addresses + (i * AddressSize), (int)Math.Min(_messages[i].Header.NameLength, AddressSize));

    /// <summary>
    /// Datagram <paramref name="i"/> with <paramref name="headerLength"/> bytes of room in front
    /// (at most <see cref="HeaderRoom"/>): write the header into the first bytes, and the span is
    /// the datagram to send on.
    /// </summary>
    public Span<byte> Frame(int i, int headerLength) => new(SlotPayload(i) - headerLength, headerLength + (int)_messages[i].Length);

    /// <summary>Leaves datagram <paramref name="i"/> out of what is sent on from this batch.</summary>
    public void Drop(int i) => _dropped[i] = true;

    public bool IsDropped(int i) => _dropped[i];

    /// <summary>
    /// Takes what is queued on <paramref name="socket"/>, up to <see cref="Capacity"/>, without
    /// waiting; fewer than <see cref="Capacity"/> means the queue is empty (or an error stopped the
    /// batch; the kernel keeps it for the next call). Returns the count (0 when nothing was
    /// queued), or minus the errno of a pending error, which the kernel reports (and clears)
    /// before any datagram.
    /// </summary>
    public int Receive(SafeHandle socket, bool withAddresses)
    {
        // The kernel rewrites msg_namelen and msg_flags of the headers it filled: reset those, or
        // all of them when the other kind of socket was read last.
        int reset = withAddresses == _withAddresses ? _touched : Capacity;
        _withAddresses = withAddresses;
        _touched = Capacity; // until a call succeeds, all of them may have been touched
        Count = 0;
        for (int i = 0; i < reset; i++)
        {
            ref var header = ref _messages[i].Header;
            header.Name = withAddresses ? _addresses + (i * AddressSize) : null;
            header.NameLength = withAddresses ? AddressSize : 0u;
            header.Flags = 0;
            _dropped[i] = false;
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
                Count = n;
                return n;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                return errno == Errno.EAGAIN ? 0 : -errno;
            }
        }
    }

    /// <summary>Empties the batch for <see cref="Append"/>.</summary>
    public void Clear()
    {
        Count = 0;
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
        _messages[i].Length = (uint)length;
        _dropped[i] = false;
        payload = new Span<byte>(SlotPayload(i), length);
        return true;
    }

    /// <summary>Puts datagrams into the batch as a read would: how the engine's test double delivers datagrams.</summary>
    public void Load(ReadOnlySpan<byte[]> payloads, ReadOnlySpan<byte> source = default)
    {
        if (payloads.Length > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(payloads), $"A batch holds {Capacity} datagrams.");
        }

        for (int i = 0; i < payloads.Length; i++)
        {
            payloads[i].CopyTo(new Span<byte>(SlotPayload(i), MaxPayload));
            _messages[i].Length = (uint)payloads[i].Length;
            source.CopyTo(new Span<byte>(_addresses + (i * AddressSize), AddressSize));
            _messages[i].Header.NameLength = (uint)source.Length;
            _dropped[i] = false;
        }

        _touched = Capacity;
        Count = payloads.Length;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            NativeMemory.Free(_messages);
            NativeMemory.Free(_iovecs);
            NativeMemory.Free(_addresses);
            NativeMemory.Free(_data);
        }
    }

    private byte* SlotPayload(int i) => _data + ((long)i * SlotSize) + HeaderRoom;
}
