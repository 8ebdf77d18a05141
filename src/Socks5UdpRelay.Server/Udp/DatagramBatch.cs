using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>
/// Up to <see cref="Capacity"/> datagrams taken from a socket with one <c>recvmmsg</c>, into
/// native buffers owned by one event-loop thread. Fewer than <see cref="Capacity"/> means the
/// queue was empty (or an error stopped the batch; the kernel keeps it for the next call, and
/// level-triggered epoll brings that call): a ping-pong flow costs one system call per wake-up
/// instead of a read and a read that finds nothing, and a busy flow one call per batch. Each slot keeps
/// <see cref="HeaderRoom"/> bytes in front of the payload, so a reply header is written in place
/// and the replies go out to one address with one <c>sendmmsg</c>.
/// </summary>
/// <remarks>
/// Linux LP64 layouts: iovec 16 bytes (base, len); msghdr 56 (name@0, namelen@8, iov@16,
/// iovlen@24, control@32, controllen@40, flags@48); mmsghdr = msghdr + u32 msg_len, 64 in all.
/// The slots are virtual memory until a datagram touches them: small datagrams keep one page
/// of each resident.
/// </remarks>
internal sealed unsafe partial class DatagramBatch : IDisposable
{
    public const int Capacity = 32;

    /// <summary>Room in front of each payload for the reply header (22 bytes for IPv6).</summary>
    public const int HeaderRoom = DestinationSocket.HeaderRoom;

    private const int MaxPayload = 65_536;
    private const int SlotSize = HeaderRoom + MaxPayload;
    private const int MmsgSize = 64;
    private const int IovecSize = 16;
    private const int AddressSize = 32; // sockaddr_in6 (28), rounded up
    private const int MsgDontWait = 0x40;
    private const int EAgain = 11;
    private const int EIntr = 4;

    private readonly byte* _headers;
    private readonly byte* _iovecs;
    private readonly byte* _addresses;
    private readonly byte* _data;
    private readonly byte* _sendHeaders;
    private readonly byte* _sendIovecs;
    private readonly byte* _sendAddress;
    private int _sendCount;
    private uint _sendAddressLength;
    private int _received = Capacity;
    private bool _withAddresses;
    private int _disposed;

    public DatagramBatch()
    {
        _headers = (byte*)NativeMemory.AllocZeroed((nuint)(Capacity * MmsgSize));
        _iovecs = (byte*)NativeMemory.AllocZeroed((nuint)(Capacity * IovecSize));
        _addresses = (byte*)NativeMemory.AllocZeroed((nuint)(Capacity * AddressSize));
        _data = (byte*)NativeMemory.Alloc((nuint)Capacity * SlotSize);
        _sendHeaders = (byte*)NativeMemory.AllocZeroed((nuint)(Capacity * MmsgSize));
        _sendIovecs = (byte*)NativeMemory.AllocZeroed((nuint)(Capacity * IovecSize));
        _sendAddress = (byte*)NativeMemory.AllocZeroed(AddressSize);
        for (int i = 0; i < Capacity; i++)
        {
            byte* iov = _iovecs + (i * IovecSize);
            *(byte**)iov = _data + ((long)i * SlotSize) + HeaderRoom;
            *(nuint*)(iov + 8) = MaxPayload;
            byte* h = _headers + (i * MmsgSize);
            *(byte**)(h + 16) = iov;
            *(nuint*)(h + 24) = 1;
        }
    }

    /// <summary>
    /// Takes what is queued on <paramref name="socket"/>, up to <see cref="Capacity"/>, without
    /// waiting. The count (0 when nothing was queued, or the socket is gone), or minus the errno
    /// of a pending error (which the kernel reports, and clears, before any datagram).
    /// </summary>
    public int Receive(Socket socket, bool withAddresses)
    {
        // The kernel rewrites msg_namelen and msg_flags of the headers it filled: reset those, or
        // all of them when the other kind of socket was read last.
        int reset = withAddresses == _withAddresses ? _received : Capacity;
        _withAddresses = withAddresses;
        _received = Capacity; // until a call succeeds, all of them may have been touched
        for (int i = 0; i < reset; i++)
        {
            byte* h = _headers + (i * MmsgSize);
            *(byte**)h = withAddresses ? _addresses + (i * AddressSize) : null;
            *(uint*)(h + 8) = withAddresses ? AddressSize : 0u;
            *(int*)(h + 48) = 0;
        }

        var handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                int n = RecvMmsg(fd, _headers, Capacity, MsgDontWait, null);
                if (n >= 0)
                {
                    _received = n;
                    return n;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != EIntr)
                {
                    return errno == EAgain ? 0 : -errno;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>The payload of datagram <paramref name="i"/> of the last receive.</summary>
    public Span<byte> Payload(int i) => new(_data + ((long)i * SlotSize) + HeaderRoom, (int)*(uint*)(_headers + (i * MmsgSize) + 56));

    /// <summary>
    /// Datagram <paramref name="i"/> with <paramref name="headerLength"/> bytes of room in front:
    /// write the header into the first bytes and send the whole span.
    /// </summary>
    public Span<byte> WithHeaderRoom(int i, int headerLength)
        => new(_data + ((long)i * SlotSize) + HeaderRoom - headerLength, headerLength + (int)*(uint*)(_headers + (i * MmsgSize) + 56));

    /// <summary>The raw source address (sockaddr) of datagram <paramref name="i"/>; receive with addresses.</summary>
    public ReadOnlySpan<byte> Source(int i) => new(_addresses + (i * AddressSize), (int)Math.Min(*(uint*)(_headers + (i * MmsgSize) + 8), AddressSize));

    /// <summary>Starts a send of received datagrams to <paramref name="address"/> (a raw sockaddr).</summary>
    public void BeginSend(ReadOnlySpan<byte> address)
    {
        int length = Math.Min(address.Length, AddressSize);
        address[..length].CopyTo(new Span<byte>(_sendAddress, AddressSize));
        _sendAddressLength = (uint)length;
        _sendCount = 0;
    }

    /// <summary>Adds datagram <paramref name="i"/> of the last receive, with the header written in front of it by <see cref="WithHeaderRoom"/>.</summary>
    public void AddToSend(int i, int headerLength)
    {
        byte* iov = _sendIovecs + (_sendCount * IovecSize);
        *(byte**)iov = _data + ((long)i * SlotSize) + HeaderRoom - headerLength;
        *(nuint*)(iov + 8) = (nuint)(headerLength + *(uint*)(_headers + (i * MmsgSize) + 56));
        byte* h = _sendHeaders + (_sendCount * MmsgSize);
        *(byte**)h = _sendAddress;
        *(uint*)(h + 8) = _sendAddressLength;
        *(byte**)(h + 16) = iov;
        *(nuint*)(h + 24) = 1;
        _sendCount++;
    }

    /// <summary>
    /// Sends what <see cref="AddToSend"/> collected, without waiting: as many <c>sendmmsg</c>
    /// calls as errors require (a datagram the kernel refuses is skipped, as a single send would
    /// have lost it; a full socket buffer loses the rest). Returns how many went out, and the
    /// bytes of the first <paramref name="sent"/> datagrams' payloads (header excluded).
    /// </summary>
    public int Send(Socket socket, int headerLength, out long payloadBytes)
    {
        payloadBytes = 0;
        int sent = 0;
        var handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            int next = 0;
            while (next < _sendCount)
            {
                int n = SendMmsg(fd, _sendHeaders + (next * MmsgSize), (uint)(_sendCount - next), MsgDontWait);
                if (n > 0)
                {
                    for (int j = next; j < next + n; j++)
                    {
                        payloadBytes += (long)*(nuint*)(_sendIovecs + (j * IovecSize) + 8) - headerLength;
                    }

                    sent += n;
                    next += n;
                    continue;
                }

                int errno = n < 0 ? Marshal.GetLastPInvokeError() : EAgain; // 0 sent without an error: stop as if full
                if (errno == EAgain)
                {
                    break;
                }

                if (errno != EIntr)
                {
                    next++; // that datagram is lost; the others may still go
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // Closed under us: what was not sent is lost, as for any datagram to a closing association.
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        return sent;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            NativeMemory.Free(_sendHeaders);
            NativeMemory.Free(_sendIovecs);
            NativeMemory.Free(_sendAddress);
            NativeMemory.Free(_headers);
            NativeMemory.Free(_iovecs);
            NativeMemory.Free(_addresses);
            NativeMemory.Free(_data);
        }
    }

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    private static partial int SendMmsg(int fd, byte* msgs, uint vlen, int flags);

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    private static partial int RecvMmsg(int fd, byte* msgs, uint vlen, int flags, void* timeout);
}
