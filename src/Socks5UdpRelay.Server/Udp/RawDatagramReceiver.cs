using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>
/// A non-blocking <c>recvfrom</c> that reports "nothing queued" as a result, not an exception,
/// and gives the raw source address: the client loop drains its socket with one system call per
/// datagram and one to find the queue empty (.NET's synchronous ReceiveFrom throws on
/// WouldBlock, and asking <c>Available</c> first costs an ioctl per datagram). Linux only;
/// elsewhere the loop uses the portable path.
/// </summary>
internal static partial class RawDatagramReceiver
{
    private const int MsgDontWait = 0x40;
    private const int EAgain = 11;
    private const int EIntr = 4;

    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && IntPtr.Size == 8;

    /// <summary>Bytes received (0 is a valid empty datagram), or -1 when the queue is empty or the socket is gone.</summary>
    public static unsafe int TryReceiveFrom(Socket socket, Span<byte> buffer, Span<byte> address, out int addressLength)
    {
        addressLength = 0;
        var handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            fixed (byte* data = buffer)
            fixed (byte* from = address)
            {
                while (true)
                {
                    uint length = (uint)address.Length;
                    nint received = RecvFrom(fd, data, buffer.Length, MsgDontWait, from, &length);
                    if (received >= 0)
                    {
                        addressLength = (int)length;
                        return (int)received;
                    }

                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != EIntr)
                    {
                        return -1; // EAGAIN: drained; anything else: the readiness wait will surface it
                    }
                }
            }
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "recvfrom", SetLastError = true)]
    private static unsafe partial nint RecvFrom(int fd, byte* buffer, nint length, int flags, byte* address, uint* addressLength);
}
