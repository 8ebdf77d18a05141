using System.Runtime.InteropServices;
using Socks5UdpRelay.Server;
using Socks5UdpRelay.Server.Transport.Epoll;

namespace Socks5UdpRelay.Benchmarks.Native;

/// <summary>
/// The bulk echo: recvmmsg on a socket with UDP_GRO (a read may hold several datagrams of one
/// sender, and says their size), then each read goes back to its sender as it came, in one
/// sendmmsg, a coalesced one as one GSO send of the same size: the datagrams the sender gets are
/// the ones it sent, and the echo costs the load side a system call per batch, not per datagram.
/// </summary>
internal sealed unsafe class SegmentedEcho : IDisposable
{
    public const int Batch = 64;
    private const int MsgWaitForOne = 0x10000;
    private const int MaxRead = 65_536;
    private const int AddressSize = Interop.Sockaddr.In6Size;
    private const int ControlSize = 128;

    private readonly Interop.MMsgHdr* _messages;
    private readonly Interop.IoVec* _iovecs;
    private readonly byte* _addresses;
    private readonly byte* _control;
    private readonly byte* _data;

    public SegmentedEcho()
    {
        _messages = (Interop.MMsgHdr*)NativeMemory.AllocZeroed(Batch, (nuint)sizeof(Interop.MMsgHdr));
        _iovecs = (Interop.IoVec*)NativeMemory.AllocZeroed(Batch, (nuint)sizeof(Interop.IoVec));
        _addresses = (byte*)NativeMemory.AllocZeroed(Batch, AddressSize);
        _control = (byte*)NativeMemory.AllocZeroed(Batch, ControlSize);
        _data = (byte*)NativeMemory.Alloc(Batch, MaxRead);
    }

    /// <summary>Switches GRO on for the echo's socket.</summary>
    public static void EnableGro(SafeHandle socket)
    {
        int one = 1;
        Interop.Sys.SetSockOpt(socket, Interop.SocketOptions.SOL_UDP, Interop.SocketOptions.UDP_GRO, &one, sizeof(int));
    }

    /// <summary>Waits (per SO_RCVTIMEO) for at least one read, then takes what else is queued; the reads, 0 on timeout, negative -errno.</summary>
    public int Receive(SafeHandle socket)
    {
        for (int i = 0; i < Batch; i++)
        {
            Reset(i, MaxRead, ControlSize);
        }

        int n = Interop.Sys.RecvMmsg(socket, _messages, Batch, MsgWaitForOne, null);
        if (n >= 0)
        {
            return n;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno is Interop.Errno.EAGAIN or Interop.Errno.EINTR ? 0 : -errno;
    }

    /// <summary>Sends the first <paramref name="count"/> reads back where each came from, a coalesced one segmented; returns the datagrams echoed.</summary>
    public int EchoBack(SafeHandle socket, int count)
    {
        int datagrams = 0;
        for (int i = 0; i < count; i++)
        {
            int length = (int)_messages[i].Length;
            byte* control = _control + (i * ControlSize);
            int segment = UdpSegmentation.ReadSegmentSize(new ReadOnlySpan<byte>(control, (int)_messages[i].Header.ControlLength));
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
        _iovecs[i] = new Interop.IoVec { Base = _data + ((long)i * MaxRead), Length = (nuint)length };
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
