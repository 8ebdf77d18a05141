using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>A UDP socket that reports the TTL each datagram arrived with (IP_RECVTTL).</summary>
internal sealed class TtlReader : IDisposable
{
    private readonly Socket _socket;

    private TtlReader(Socket socket) => _socket = socket;

    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public int Port => EndPoint.Port;

    public static TtlReader Bind()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = (int)TestTimeout.Default.TotalMilliseconds };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
        socket.SetRawSocketOption(0, 12, BitConverter.GetBytes(1)); // IP_RECVTTL
        return new TtlReader(socket);
    }

    /// <summary>The next datagram's TTL, from its IP_TTL control message.</summary>
    public unsafe int ReceiveTtl()
    {
        byte* data = stackalloc byte[2048];
        byte* control = stackalloc byte[256];
        var iov = new Interop.IoVec { Base = data, Length = 2048 };
        var message = new Interop.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = 256 };
        Assert.True(Interop.Sys.RecvMsg(_socket.SafeHandle, &message, 0) >= 0, $"recvmsg: errno {Marshal.GetLastPInvokeError()}");
        var cmsgs = new ReadOnlySpan<byte>(control, (int)message.ControlLength);
        for (int offset = 0; offset + 16 <= cmsgs.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(cmsgs[offset..]);
            int level = BinaryPrimitives.ReadInt32LittleEndian(cmsgs[(offset + 8)..]);
            int type = BinaryPrimitives.ReadInt32LittleEndian(cmsgs[(offset + 12)..]);
            if (level == 0 && type == 2)
            {
                return BinaryPrimitives.ReadInt32LittleEndian(cmsgs[(offset + 16)..]);
            }

            offset += (length + 7) & ~7;
        }

        throw new Xunit.Sdk.XunitException("no IP_TTL control message");
    }

    public void Dispose() => _socket.Dispose();
}
