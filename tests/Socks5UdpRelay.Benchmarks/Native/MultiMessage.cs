using System.Runtime.InteropServices;
using Socks5UdpRelay.Server;
using Socks5UdpRelay.Server.Transport.Epoll;

namespace Socks5UdpRelay.Benchmarks.Native;

/// <summary>
/// recvmmsg/sendmmsg for the echo target, over the server's own native calls and structures
/// (Interop.Sys): up to <see cref="Batch"/> reads per system call, so on a shared core the echo
/// costs the load side as little as possible. <c>segmented</c> (the bulk workload): the socket
/// reads with UDP_GRO, so a read may hold several datagrams of one sender and says their size,
/// and such a read goes back as it came, as one GSO send of that size: the sender gets the
/// datagrams it sent, at a system call per batch.
/// </summary>
internal sealed unsafe class MultiMessage : IDisposable
{
    public const int Batch = 64;
    private const int MsgWaitForOne = 0x10000;
    private const int MaxDatagram = 65_536;
    private const int AddressSize = Interop.Sockaddr.In6Size; // big enough for either family
    private const int ControlSize = 128;

    private readonly Interop.MMsgHdr* _messages;
    private readonly Interop.IoVec* _iovecs;
    private readonly byte* _addresses;
    private readonly byte* _control;
    private readonly byte* _data;
    private readonly bool _segmented;

    public MultiMessage(bool segmented = false)
    {
        _segmented = segmented;
        _messages = (Interop.MMsgHdr*)NativeMemory.AllocZeroed(Batch, (nuint)sizeof(Interop.MMsgHdr));
        _iovecs = (Interop.IoVec*)NativeMemory.AllocZeroed(Batch, (nuint)sizeof(Interop.IoVec));
        _addresses = (byte*)NativeMemory.AllocZeroed(Batch, AddressSize);
        _control = (byte*)NativeMemory.AllocZeroed(Batch, ControlSize);
        _data = (byte*)NativeMemory.Alloc(Batch, MaxDatagram);
    }

    /// <summary>Switches GRO on for an echo socket whose batches are segmented.</summary>
    public static void EnableGro(SafeHandle socket)
    {
        int one = 1;
        Interop.Sys.SetSockOpt(socket, Interop.SocketOptions.SOL_UDP, Interop.SocketOptions.UDP_GRO, &one, sizeof(int));
    }

    /// <summary>
    /// Waits (per the socket's SO_RCVTIMEO) for at least one read, then takes what else is
    /// queued, up to <see cref="Batch"/>. Returns the reads, 0 on timeout, negative -errno.
    /// </summary>
    public int Receive(SafeHandle socket)
    {
        for (int i = 0; i < Batch; i++)
        {
            Reset(i, MaxDatagram, _segmented ? ControlSize : 0);
        }

        int n = Interop.Sys.RecvMmsg(socket, _messages, Batch, MsgWaitForOne, null);
        if (n >= 0)
        {
            return n;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno is Interop.Errno.EAGAIN or Interop.Errno.EINTR ? 0 : -errno; // EAGAIN: the timeout
    }

    /// <summary>Sends the first <paramref name="count"/> reads back where each came from; returns the datagrams they held.</summary>
    public int EchoBack(SafeHandle socket, int count)
    {
        int datagrams = 0;
        for (int i = 0; i < count; i++)
        {
            int length = (int)_messages[i].Length;
            byte* control = _control + (i * ControlSize);
            int segment = _segmented ? UdpSegmentation.ReadSegmentSize(new ReadOnlySpan<byte>(control, (int)_messages[i].Header.ControlLength)) : 0;
            bool coalesced = segment > 0 && segment < length;
            if (coalesced)
            {
                UdpSegmentation.WriteSegmentSize(new Span<byte>(control, UdpSegmentation.ControlSpace), segment);
            }

            Reset(i, length, coalesced ? UdpSegmentation.ControlSpace : 0);
            datagrams += coalesced ? (length + segment - 1) / segment : 1;
        }

        int sent = 0;
        while (sent < count)
        {
            int n = Interop.Sys.SendMmsg(socket, _messages + sent, (uint)(count - sent), 0);
            if (n <= 0)
            {
                break; // a full buffer or a refused peer: the rest is lost, as UDP may
            }

            sent += n;
        }

        return datagrams;
    }

    public void Dispose()
    {
        NativeMemory.Free(_messages);
        NativeMemory.Free(_iovecs);
        NativeMemory.Free(_addresses);
        NativeMemory.Free(_control);
        NativeMemory.Free(_data);
    }

    private void Reset(int i, int length, int controlLength)
    {
        _iovecs[i] = new Interop.IoVec { Base = _data + ((long)i * MaxDatagram), Length = (nuint)length };
        _messages[i].Header = new Interop.MsgHdr
        {
            Name = _addresses + (i * AddressSize),
            NameLength = AddressSize,
            Iov = _iovecs + i,
            IovLength = 1,
            Control = controlLength > 0 ? _control + (i * ControlSize) : null,
            ControlLength = (nuint)controlLength,
        };
    }
}
