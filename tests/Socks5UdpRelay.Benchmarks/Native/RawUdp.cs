using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Benchmarks.Native;

/// <summary>
/// recvfrom/sendto straight on a socket's descriptor with MSG_DONTWAIT: "nothing queued" is a
/// return value, not an exception, and the source address lands in a caller-owned sockaddr.
/// IPv4 only (the tool runs on 127.0.0.1).
/// </summary>
internal static partial class RawUdp
{
    public const int SockaddrInLength = 16;
    private const int MsgDontWait = 0x40;
    private const int EAgain = 11;

    /// <summary>Linux sockaddr_in: family (host order), port (network order), address.</summary>
    public static byte[] Sockaddr(IPEndPoint endPoint)
    {
        var sa = new byte[SockaddrInLength];
        BitConverter.TryWriteBytes(sa, (ushort)AddressFamily.InterNetwork);
        BinaryPrimitives.WriteUInt16BigEndian(sa.AsSpan(2), (ushort)endPoint.Port);
        endPoint.Address.TryWriteBytes(sa.AsSpan(4), out _);
        return sa;
    }

    /// <summary>
    /// Bytes received, 0 when nothing is queued, negative -errno on error. With
    /// <paramref name="wait"/>, blocks until a datagram arrives or the socket's SO_RCVTIMEO passes (then 0).
    /// </summary>
    public static int Receive(int fd, Span<byte> buffer, Span<byte> from, bool wait = false)
    {
        int fromLength = from.Length;
        nint n = recvfrom(fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length, wait ? 0 : MsgDontWait, ref MemoryMarshal.GetReference(from), ref fromLength);
        if (n >= 0)
        {
            return (int)n;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno == EAgain ? 0 : -errno;
    }

    /// <summary>True when sent; false when the socket buffer is full or the kernel refused.</summary>
    public static bool Send(int fd, ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> to)
        => sendto(fd, ref MemoryMarshal.GetReference(datagram), (nuint)datagram.Length, 0, ref MemoryMarshal.GetReference(to), to.Length) == datagram.Length;

    public static int Fd(Socket socket) => (int)socket.SafeHandle.DangerousGetHandle();

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recvfrom(int fd, ref byte buf, nuint len, int flags, ref byte from, ref int fromLength);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint sendto(int fd, ref readonly byte buf, nuint len, int flags, ref readonly byte to, int toLength);
}
