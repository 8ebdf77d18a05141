using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Transport.Epoll;
using Xunit;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>
/// A test's own socket speaking UDP segmentation offload as a QUIC stack does: one GSO send of
/// many datagrams (UDP_SEGMENT), and GRO reads that say how many datagrams they hold.
/// </summary>
internal static unsafe class SegmentedUdp
{
    /// <summary>Lets the kernel hand <paramref name="socket"/> several datagrams of one flow in one read.</summary>
    public static void EnableGro(Socket socket) => socket.SetRawSocketOption(SocketOptions.SOL_UDP, SocketOptions.UDP_GRO, BitConverter.GetBytes(1));

    /// <summary>
    /// Sends <paramref name="buffer"/> as datagrams of <paramref name="segmentSize"/> bytes (the
    /// last may be shorter) in one sendmsg with UDP_SEGMENT, to <paramref name="to"/> (null on a
    /// connected socket).
    /// </summary>
    public static void Send(Socket socket, ReadOnlySpan<byte> buffer, int segmentSize, IPEndPoint? to)
    {
        byte* control = stackalloc byte[UdpSegmentation.ControlSpace];
        UdpSegmentation.WriteSegmentSize(new Span<byte>(control, UdpSegmentation.ControlSpace), segmentSize);
        byte* name = stackalloc byte[RawSocketAddress.MaxLength];
        int nameLength = to is null ? 0 : RawSocketAddress.Write(new Span<byte>(name, RawSocketAddress.MaxLength), to.Address, to.Port);
        fixed (byte* data = buffer)
        {
            var iov = new IoVec { Base = data, Length = (nuint)buffer.Length };
            var message = new MMsgHdr
            {
                Header = new MsgHdr
                {
                    Name = nameLength > 0 ? name : null,
                    NameLength = (uint)nameLength,
                    Iov = &iov,
                    IovLength = 1,
                    Control = control,
                    ControlLength = UdpSegmentation.ControlSpace,
                },
            };
            int sent = Sys.SendMmsg(socket.SafeHandle, &message, 1, 0);
            Assert.True(sent == 1, $"sendmmsg with UDP_SEGMENT failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>
    /// One read (blocking, up to the socket's receive timeout): the datagrams it holds, split at
    /// the GRO segment size as the kernel would have delivered them, and that size (0: one datagram).
    /// </summary>
    public static (List<byte[]> Datagrams, int SegmentSize) Receive(Socket socket)
    {
        byte[] buffer = new byte[65_536];
        byte* control = stackalloc byte[128];
        nint length;
        fixed (byte* data = buffer)
        {
            var iov = new IoVec { Base = data, Length = (nuint)buffer.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = 128 };
            length = Sys.RecvMsg(socket.SafeHandle, &message, 0);
            Assert.True(length >= 0, $"recvmsg failed: errno {Marshal.GetLastPInvokeError()}");
            int segment = UdpSegmentation.ReadSegmentSize(new ReadOnlySpan<byte>(control, (int)message.ControlLength));
            var datagrams = new List<byte[]>();
            int step = segment > 0 ? segment : (int)length;
            for (int offset = 0; offset < length || (length == 0 && offset == 0); offset += Math.Max(step, 1))
            {
                datagrams.Add(buffer[offset..(int)Math.Min(offset + step, length)]);
            }

            return (datagrams, segment);
        }
    }
}
