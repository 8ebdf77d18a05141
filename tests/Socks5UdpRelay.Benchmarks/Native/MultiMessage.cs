using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Benchmarks.Native;

/// <summary>
/// recvmmsg/sendmmsg over native buffers: the echo target moves up to <see cref="Batch"/>
/// datagrams per system call, so on a shared core it costs the load side as little as possible.
/// Linux LP64 layouts: iovec 16 bytes; msghdr 56 (name@0, namelen@8, iov@16, iovlen@24,
/// control@32, controllen@40, flags@48); mmsghdr = msghdr + u32 msg_len, padded to 64.
/// </summary>
internal sealed unsafe partial class MultiMessage : IDisposable
{
    public const int Batch = 64;
    private const int MsgWaitForOne = 0x10000;
    private const int MmsgSize = 64;
    private const int MaxDatagram = 65_536;
    private const int AddressSize = 28; // sockaddr_in6, big enough for either family

    private readonly byte* _headers;
    private readonly byte* _iovecs;
    private readonly byte* _addresses;
    private readonly byte* _data;

    public MultiMessage()
    {
        _headers = (byte*)NativeMemory.AllocZeroed((nuint)(Batch * MmsgSize));
        _iovecs = (byte*)NativeMemory.AllocZeroed((nuint)(Batch * 16));
        _addresses = (byte*)NativeMemory.AllocZeroed((nuint)(Batch * AddressSize));
        _data = (byte*)NativeMemory.Alloc((nuint)(Batch * MaxDatagram));
    }

    /// <summary>
    /// Waits (per the socket's SO_RCVTIMEO) for at least one datagram, then takes what else is
    /// queued, up to <see cref="Batch"/>. Returns the count, 0 on timeout, negative -errno.
    /// </summary>
    public int Receive(int fd)
    {
        for (int i = 0; i < Batch; i++)
        {
            Reset(i, MaxDatagram);
        }

        int n = recvmmsg(fd, _headers, Batch, MsgWaitForOne, null);
        if (n >= 0)
        {
            return n;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno is 11 or 4 ? 0 : -errno; // EAGAIN (timeout), EINTR
    }

    /// <summary>Sends the first <paramref name="count"/> received datagrams back where each came from.</summary>
    public int EchoBack(int fd, int count)
    {
        for (int i = 0; i < count; i++)
        {
            uint length = *(uint*)(_headers + (i * MmsgSize) + 56);
            Reset(i, (int)length);
        }

        int sent = 0;
        while (sent < count)
        {
            int n = sendmmsg(fd, _headers + (sent * MmsgSize), (uint)(count - sent), 0);
            if (n <= 0)
            {
                return sent; // a full buffer or a refused peer: the rest is lost, as UDP may
            }

            sent += n;
        }

        return sent;
    }

    public void Dispose()
    {
        NativeMemory.Free(_headers);
        NativeMemory.Free(_iovecs);
        NativeMemory.Free(_addresses);
        NativeMemory.Free(_data);
    }

    private void Reset(int i, int length)
    {
        byte* iov = _iovecs + (i * 16);
        *(byte**)iov = _data + ((long)i * MaxDatagram);
        *(nuint*)(iov + 8) = (nuint)length;
        byte* h = _headers + (i * MmsgSize);
        *(byte**)h = _addresses + (i * AddressSize);
        *(uint*)(h + 8) = AddressSize;
        *(byte**)(h + 16) = iov;
        *(nuint*)(h + 24) = 1;
        *(byte**)(h + 32) = null;
        *(nuint*)(h + 40) = 0;
        *(int*)(h + 48) = 0;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int recvmmsg(int fd, byte* msgs, uint vlen, int flags, void* timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sendmmsg(int fd, byte* msgs, uint vlen, int flags);
}
