using System.Net.Sockets;
using System.Runtime.InteropServices;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// Where every error of a destination socket comes from: the kernel's per-socket error queue
/// (IP_RECVERR / IPV6_RECVERR), which names the ICMP type/code, the offender and the MTU and
/// surfaces errors a plain connected socket never reports (host/net unreachable, TTL exceeded);
/// or, with the queue off or not available, the errno of the failed operation alone. One
/// instance serves the process; it holds no per-call state, so any thread may read any socket.
/// </summary>
internal sealed class ErrorSource
{
    /// <summary>
    /// One error entry needs CMSG_SPACE(16 + 28) = 64 bytes (sock_extended_err, then a sockaddr_in6
    /// offender); the rest is room for control messages the kernel may append to ICMP-origin
    /// entries. A truncated control area (MSG_CTRUNC) still yields what fitted.
    /// </summary>
    private const int ControlBufferSize = 512;

    private ErrorSource(bool usesErrorQueue, string description)
    {
        UsesErrorQueue = usesErrorQueue;
        Description = description;
    }

    /// <summary>True when errors are read from the kernel's error queue; false: from errnos alone.</summary>
    public bool UsesErrorQueue { get; }

    /// <summary>What this source reads, for one log line at start.</summary>
    public string Description { get; }

    /// <summary>The errno-only source (<c>Relay:ErrorQueue=off</c>).</summary>
    public static ErrorSource ErrnoOnly(string why) => new(false, $"errno only ({why})");

    /// <summary>The error-queue source where the kernel accepts IP_RECVERR on a probe socket and an empty queue reads as EAGAIN; else errno only, saying why.</summary>
    public static ErrorSource Create()
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var queue = new ErrorSource(true, "kernel error queue (IP_RECVERR)");
            if (!queue.Enable(probe.SafeHandle, AddressFamily.InterNetwork))
            {
                return ErrnoOnly("the kernel refused IP_RECVERR on a probe socket");
            }

            // Resolves recvmsg in libc now rather than on the first error, and proves that an empty queue reads as EAGAIN.
            var none = new List<ErrorReport>();
            int stop = Drain(probe.SafeHandle, none);
            return stop == Errno.EAGAIN && none.Count == 0
                ? queue
                : ErrnoOnly($"recvmsg(MSG_ERRQUEUE) on an empty queue ended with {ErrnoTable.Name(stop)}, expected EAGAIN");
        }
        catch (Exception e) when (e is SocketException or DllNotFoundException or EntryPointNotFoundException)
        {
            return ErrnoOnly($"error-queue probe failed: {e.Message}");
        }
    }

    /// <summary>
    /// Switches the queue on for a UDP socket before it is used: IP_RECVERR, IPV6_RECVERR, and
    /// both on a dual-mode socket (its IPv4 errors are then read at SOL_IPV6 with v4-mapped
    /// addresses); with each error, the TTL it arrived with (IP_RECVTTL, IPV6_RECVHOPLIMIT).
    /// False when this source is errno-only or the kernel refused.
    /// </summary>
    public unsafe bool Enable(SafeHandle socket, AddressFamily family, bool dualMode = false)
    {
        if (!UsesErrorQueue)
        {
            return false;
        }

        int on = 1;
        try
        {
            bool enabled = family switch
            {
                AddressFamily.InterNetwork => Sys.SetSockOpt(socket, SocketOptions.SOL_IP, SocketOptions.IP_RECVERR, &on, sizeof(int)) == 0,
                AddressFamily.InterNetworkV6 => Sys.SetSockOpt(socket, SocketOptions.SOL_IPV6, SocketOptions.IPV6_RECVERR, &on, sizeof(int)) == 0
                    && (!dualMode || Sys.SetSockOpt(socket, SocketOptions.SOL_IP, SocketOptions.IP_RECVERR, &on, sizeof(int)) == 0),
                _ => false,
            };
            if (enabled)
            {
                // The TTL each ICMP error arrived with (the notice's rttl=): a detail, so a refusal costs nothing but the key.
                _ = family == AddressFamily.InterNetwork || dualMode
                    ? Sys.SetSockOpt(socket, SocketOptions.SOL_IP, SocketOptions.IP_RECVTTL, &on, sizeof(int))
                    : 0;
                _ = family == AddressFamily.InterNetworkV6
                    ? Sys.SetSockOpt(socket, SocketOptions.SOL_IPV6, SocketOptions.IPV6_RECVHOPLIMIT, &on, sizeof(int))
                    : 0;
            }

            return enabled;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Turns an error indication on <paramref name="socket"/> into reports appended to
    /// <paramref name="reports"/>: every entry of its error queue (reading the queue to empty also
    /// clears the socket's pending error), or, when the queue gave nothing, one report from
    /// <paramref name="errno"/> (the failed operation's; 0 when only epoll said "error", in
    /// which case an empty queue reports nothing). Returns how many it appended.
    /// </summary>
    public int Read(SafeHandle socket, int errno, List<ErrorReport> reports)
    {
        int before = reports.Count;
        if (UsesErrorQueue)
        {
            Drain(socket, reports);
        }

        if (reports.Count == before && errno != 0 && !ErrnoTable.IsClosed(errno))
        {
            reports.Add(ErrorReport.FromErrno(errno));
        }

        return reports.Count - before;
    }

    /// <summary>Reads and forgets whatever the socket's error queue holds (errors that concern no one it will talk to).</summary>
    public void Discard(SafeHandle socket)
    {
        if (UsesErrorQueue)
        {
            Drain(socket, null);
        }
    }

    /// <summary>Reads entries until recvmsg fails; returns its errno (EAGAIN when the queue is empty, the normal end; EBADF when the socket is closed).</summary>
    private static unsafe int Drain(SafeHandle socket, List<ErrorReport>? reports)
    {
        byte* name = stackalloc byte[Sockaddr.StorageSize];
        byte* control = stackalloc byte[ControlBufferSize];
        while (true)
        {
            // No iovec: the payload's first bytes are not needed (the kernel sets MSG_TRUNC).
            var message = new MsgHdr { Name = name, NameLength = Sockaddr.StorageSize, Control = control, ControlLength = ControlBufferSize };
            nint result;
            try
            {
                result = Sys.RecvMsg(socket, &message, MessageFlags.MSG_ERRQUEUE | MessageFlags.MSG_DONTWAIT);
            }
            catch (ObjectDisposedException)
            {
                return Errno.EBADF;
            }

            if (result < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                return errno;
            }

            var nameSpan = new ReadOnlySpan<byte>(name, (int)Math.Min(message.NameLength, (uint)Sockaddr.StorageSize));
            var controlSpan = new ReadOnlySpan<byte>(control, (int)Math.Min(message.ControlLength, (nuint)ControlBufferSize));
            if (reports is not null && ErrorQueueEntry.TryParse(nameSpan, controlSpan, out var report))
            {
                reports.Add(report);
            }
        }
    }
}
