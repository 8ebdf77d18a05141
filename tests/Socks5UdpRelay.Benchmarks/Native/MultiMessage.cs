using System.Runtime.InteropServices;
using Socks5UdpRelay.Server;

namespace Socks5UdpRelay.Benchmarks.Native;

/// <summary>
/// recvmmsg/sendmmsg for the echo target, over the server's own native calls and structures
/// (Interop.Sys): up to <see cref="Batch"/> datagrams per system call, so on a shared core the
/// echo costs the load side as little as possible.
/// </summary>
internal sealed unsafe class MultiMessage : IDisposable
{
    public const int Batch = 64;
    private const int MsgWaitForOne = 0x10000;
    private const int MaxDatagram = 65_536;
    private const int AddressSize = Interop.Sockaddr.In6Size; // big enough for either family

    private readonly Interop.MMsgHdr* _messages;
    private readonly Interop.IoVec* _iovecs;
    private readonly byte* _addresses;
    private readonly byte* _data;

    public MultiMessage()
    {
        _messages = (Interop.MMsgHdr*)NativeMemory.AllocZeroed(Batch, (nuint)sizeof(Interop.MMsgHdr));
        _iovecs = (Interop.IoVec*)NativeMemory.AllocZeroed(Batch, (nuint)sizeof(Interop.IoVec));
        _addresses = (byte*)NativeMemory.AllocZeroed(Batch, AddressSize);
        _data = (byte*)NativeMemory.Alloc(Batch, MaxDatagram);
    }

    /// <summary>
    /// Waits (per the socket's SO_RCVTIMEO) for at least one datagram, then takes what else is
    /// queued, up to <see cref="Batch"/>. Returns the count, 0 on timeout, negative -errno.
    /// </summary>
    public int Receive(SafeHandle socket)
    {
        for (int i = 0; i < Batch; i++)
        {
            Reset(i, MaxDatagram);
        }

        int n = Interop.Sys.RecvMmsg(socket, _messages, Batch, MsgWaitForOne, null);
        if (n >= 0)
        {
            return n;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno is Interop.Errno.EAGAIN or Interop.Errno.EINTR ? 0 : -errno; // EAGAIN: the timeout
    }

    /// <summary>Sends the first <paramref name="count"/> received datagrams back where each came from.</summary>
    public int EchoBack(SafeHandle socket, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Reset(i, (int)_messages[i].Length);
        }

        int sent = 0;
        while (sent < count)
        {
            int n = Interop.Sys.SendMmsg(socket, _messages + sent, (uint)(count - sent), 0);
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
        NativeMemory.Free(_messages);
        NativeMemory.Free(_iovecs);
        NativeMemory.Free(_addresses);
        NativeMemory.Free(_data);
    }

    private void Reset(int i, int length)
    {
        _iovecs[i] = new Interop.IoVec { Base = _data + ((long)i * MaxDatagram), Length = (nuint)length };
        _messages[i].Header = new Interop.MsgHdr
        {
            Name = _addresses + (i * AddressSize),
            NameLength = AddressSize,
            Iov = _iovecs + i,
            IovLength = 1,
        };
    }
}
