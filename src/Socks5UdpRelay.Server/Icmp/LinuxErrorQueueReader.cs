using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Socks5UdpRelay.Protocol;
using static Socks5UdpRelay.Server.Icmp.LinuxErrorQueueInterop;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// Reads the Linux per-socket error queue (IP_RECVERR / IPV6_RECVERR) with
/// <c>recvmsg(fd, MSG_ERRQUEUE | MSG_DONTWAIT)</c>: one entry per ICMP error (or local error),
/// naming the original destination, the ICMP type/code, the offender and the MTU.
/// </summary>
/// <remarks>
/// Thread safety: the reader holds no state; every <see cref="Drain"/> call uses its own
/// stack-allocated buffers (about 700 bytes), so any number of sockets may be drained
/// concurrently, and no heap buffer is pinned or shared. This is the error path, so a fresh
/// stack buffer per call costs nothing that matters; a <c>[ThreadStatic]</c> scratch would save
/// nothing and would break if a call were ever re-entered on the same thread.
/// Create with <see cref="TryCreate"/>, which checks the platform and the structure layouts.
/// </remarks>
internal sealed class LinuxErrorQueueReader : IErrorQueueReader
{
    /// <summary>sizeof(struct sockaddr_storage): room for any msg_name.</summary>
    private const int NameBufferSize = 128;

    /// <summary>
    /// One error entry needs CMSG_SPACE(16 + 28) = 64 bytes (sock_extended_err, then a sockaddr_in6
    /// offender); the rest is room for control messages the socket's owner may have switched on
    /// (IP_PKTINFO, timestamps), which the kernel appends to ICMP-origin entries. A truncated
    /// control area (MSG_CTRUNC) still yields what fitted.
    /// </summary>
    private const int ControlBufferSize = 512;

    private LinuxErrorQueueReader()
    {
    }

    public bool IsSupported => true;

    /// <summary>
    /// The reader, when this is 64-bit Linux with the expected layouts, libc's recvmsg resolves and
    /// the kernel accepts IP_RECVERR on a probe socket; otherwise why not (for a log line) and the
    /// caller falls back to <see cref="NullErrorQueueReader"/>.
    /// </summary>
    public static bool TryCreate([NotNullWhen(true)] out LinuxErrorQueueReader? reader, [NotNullWhen(false)] out string? reason)
    {
        reader = null;
        if (!OperatingSystem.IsLinux())
        {
            reason = "the kernel error queue (IP_RECVERR) is Linux only";
            return false;
        }

        reason = CheckLayouts();
        if (reason is not null)
        {
            return false;
        }

        var candidate = new LinuxErrorQueueReader();
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            if (!candidate.Enable(probe))
            {
                reason = "the kernel refused IP_RECVERR on a probe socket";
                return false;
            }

            // Resolves recvmsg in libc now rather than on the first error, and proves that an empty
            // queue reads as EAGAIN.
            if (DrainCore(probe, reports: null, out int stopErrno) != 0 || stopErrno != ErrnoNames.EAGAIN)
            {
                reason = $"recvmsg(MSG_ERRQUEUE) on an empty queue ended with {ErrnoNames.Get(stopErrno)}, expected EAGAIN";
                return false;
            }
        }
        catch (Exception e) when (e is SocketException or DllNotFoundException or EntryPointNotFoundException)
        {
            reason = $"error-queue probe failed: {e.Message}";
            return false;
        }

        reader = candidate;
        reason = null;
        return true;
    }

    public bool Enable(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        try
        {
            switch (socket.AddressFamily)
            {
                case AddressFamily.InterNetwork:
                    SetOn(socket, SOL_IP, IP_RECVERR);
                    return true;
                case AddressFamily.InterNetworkV6:
                    SetOn(socket, SOL_IPV6, IPV6_RECVERR);
                    if (socket.DualMode)
                    {
                        // IPv4 errors of a dual-mode socket are queued only with the IPv4 option too;
                        // they are then read at SOL_IPV6 with v4-mapped addresses.
                        SetOn(socket, SOL_IP, IP_RECVERR);
                    }

                    return true;
                default:
                    return false;
            }
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public int Drain(Socket socket, List<SocketErrorReport> reports)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(reports);
        return DrainCore(socket, reports, out _);
    }

    private static void SetOn(Socket socket, int level, int name)
    {
        Span<byte> one = stackalloc byte[sizeof(int)];
        MemoryMarshal.Write(one, 1);
        socket.SetRawSocketOption(level, name, one);
    }

    /// <summary>
    /// Reads entries until recvmsg fails; <paramref name="stopErrno"/> is its errno (EAGAIN when the
    /// queue is empty, which is the normal end), 0 if the socket was already closed.
    /// With <paramref name="reports"/> null the entries are read and discarded.
    /// </summary>
    private static unsafe int DrainCore(Socket socket, List<SocketErrorReport>? reports, out int stopErrno)
    {
        stopErrno = 0;

        // Reading SafeHandle marks it exposed, which only stops .NET from retrying a failed or
        // multi-address Connect on a fresh descriptor; SetRawSocketOption in Enable already did so.
        SafeSocketHandle handle = socket.SafeHandle;
        if (handle.IsInvalid || handle.IsClosed)
        {
            return 0;
        }

        bool added = false;
        try
        {
            // Keeps the descriptor from being closed and reused by another socket while recvmsg runs.
            handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }

        int count = 0;
        try
        {
            int fd = (int)handle.DangerousGetHandle();
            byte* name = stackalloc byte[NameBufferSize];
            byte* control = stackalloc byte[ControlBufferSize];
            while (true)
            {
                MsgHdr msg = default;
                msg.Name = (nint)name;
                msg.NameLen = NameBufferSize;
                msg.Control = (nint)control;
                msg.ControlLen = ControlBufferSize;

                // No iovec: the payload's first bytes are not needed (the kernel sets MSG_TRUNC).
                nint result = RecvMsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
                if (result < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == ErrnoNames.EINTR)
                    {
                        continue;
                    }

                    stopErrno = errno;
                    break;
                }

                var nameSpan = new ReadOnlySpan<byte>(name, (int)Math.Min(msg.NameLen, (uint)NameBufferSize));
                var controlSpan = new ReadOnlySpan<byte>(control, (int)Math.Min(msg.ControlLen, (nuint)ControlBufferSize));
                if (TryParseEntry(nameSpan, controlSpan, out var report))
                {
                    reports?.Add(report);
                    count++;
                }
            }
        }
        finally
        {
            handle.DangerousRelease();
        }

        return count;
    }

    /// <summary>
    /// One error-queue entry: msg_name is the original destination; the control area holds a
    /// cmsghdr (16 bytes: size_t len, int level, int type; data at +16, entries 8-aligned) at
    /// SOL_IP/IP_RECVERR or SOL_IPV6/IPV6_RECVERR whose data is a sock_extended_err (16 bytes) and
    /// then the offender's sockaddr (SO_EE_OFFENDER; AF_UNSPEC when there is none). False for an
    /// entry that is no error (ee_errno 0: a timestamp or zero-copy notification) or has no
    /// error control message.
    /// </summary>
    internal static bool TryParseEntry(ReadOnlySpan<byte> name, ReadOnlySpan<byte> control, out SocketErrorReport report)
    {
        report = default;
        int cmsgHeaderSize = Marshal.SizeOf<CmsgHdr>();
        int extendedErrSize = Marshal.SizeOf<SockExtendedErr>();
        int offset = 0;
        while (offset + cmsgHeaderSize <= control.Length)
        {
            var header = MemoryMarshal.Read<CmsgHdr>(control[offset..]);
            if (header.Length < (nuint)cmsgHeaderSize || header.Length > (nuint)(control.Length - offset))
            {
                return false;
            }

            int length = (int)header.Length;
            bool isError = (header.Level == SOL_IP && header.Type == IP_RECVERR)
                || (header.Level == SOL_IPV6 && header.Type == IPV6_RECVERR);
            if (isError && length >= cmsgHeaderSize + extendedErrSize)
            {
                var data = control.Slice(offset + cmsgHeaderSize, length - cmsgHeaderSize);
                var error = MemoryMarshal.Read<SockExtendedErr>(data);
                if (error.Errno == 0)
                {
                    return false;
                }

                TryReadAddress(data[extendedErrSize..], out var offender, out _);
                IPEndPoint? destination = TryReadAddress(name, out var address, out int port)
                    ? new IPEndPoint(address, port)
                    : null;
                report = ToReport(error, offender, destination);
                return true;
            }

            offset += (length + CmsgAlignment - 1) & ~(CmsgAlignment - 1);
        }

        return false;
    }

    private static SocketErrorReport ToReport(SockExtendedErr error, IPAddress? offender, IPEndPoint? destination)
    {
        string errno = ErrnoNames.Get((int)error.Errno);
        var (origin, kind) = error.Origin switch
        {
            SO_EE_ORIGIN_ICMP => (ErrorOrigin.Icmp, UdpErrorKinds.FromIcmp(error.Type, error.Code)),
            SO_EE_ORIGIN_ICMP6 => (ErrorOrigin.Icmp6, UdpErrorKinds.FromIcmp6(error.Type, error.Code)),
            SO_EE_ORIGIN_LOCAL => (ErrorOrigin.Local, UdpErrorKinds.FromErrno(errno)),
            _ => (ErrorOrigin.None, UdpErrorKinds.FromErrno(errno)),
        };

        // ee_info is the MTU for frag-needed (3/4), packet-too-big (ICMPv6 2/0) and a local EMSGSIZE
        // (ip_local_error / ipv6_local_error); for other entries it means nothing to us.
        bool carriesMtu = origin switch
        {
            ErrorOrigin.Icmp => error.Type == 3 && error.Code == 4,
            ErrorOrigin.Icmp6 => error.Type == 2 && error.Code == 0,
            ErrorOrigin.Local => error.Errno == ErrnoNames.EMSGSIZE,
            _ => false,
        };
        int mtu = carriesMtu ? (int)Math.Min(error.Info, int.MaxValue) : 0;

        return new SocketErrorReport(kind, errno, origin, error.Type, error.Code, offender, mtu, destination);
    }

    /// <summary>
    /// sockaddr_in (16 bytes: u16 family, be16 port, 4-byte address) or sockaddr_in6 (28 bytes:
    /// u16 family, be16 port, u32 flowinfo, 16-byte address, u32 scope id); family in host order.
    /// A v4-mapped IPv6 address (a dual-mode socket's IPv4 entry) comes back as IPv4.
    /// </summary>
    private static bool TryReadAddress(ReadOnlySpan<byte> sockaddr, [NotNullWhen(true)] out IPAddress? address, out int port)
    {
        address = null;
        port = 0;
        if (sockaddr.Length < sizeof(ushort))
        {
            return false;
        }

        ushort family = MemoryMarshal.Read<ushort>(sockaddr);
        if (family == AF_INET && sockaddr.Length >= SockaddrInSize)
        {
            port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]);
            address = new IPAddress(sockaddr.Slice(4, 4));
            return true;
        }

        if (family == AF_INET6 && sockaddr.Length >= SockaddrIn6Size)
        {
            port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]);
            uint scopeId = MemoryMarshal.Read<uint>(sockaddr[24..]);
            address = new IPAddress(sockaddr.Slice(8, 16), scopeId);
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            return true;
        }

        return false;
    }
}
