using System.Net.Sockets;
using System.Runtime.InteropServices;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// A connected UDP socket to one destination, bound to the association's shared outbound port.
/// Being connected is the point: the kernel then reports that destination's ICMP errors on it,
/// and every one is read through the <see cref="ErrorSource"/> and handed to the handler. Replies
/// are read with GRO, and what a batch queued leaves segmented (GSO), where the kernel has them;
/// GSO only with the error queue, which alone tells a send the path refused (EMSGSIZE, never
/// reported) from an ICMP error the kernel held (ARCHITECTURE.md, "Segmentation offload").
/// </summary>
internal sealed unsafe class EpollDestinationSocket : EpollSocket, IDestinationSocket, ISendErrors
{
    private readonly ErrorSource _errors;
    private readonly bool _ipv6;
    private Outbox.Queue _queued;

    // The largest datagram this socket may still send segmented; lowered when the kernel or the path refuses.
    private int _maxSegment;

    private EpollDestinationSocket(SafeHandle handle, EventLoop loop, ErrorSource errors, bool ipv6)
        : base(handle, loop)
    {
        _errors = errors;
        _ipv6 = ipv6;
        Coalesces = loop.Offload.EnableGro(handle);
        _maxSegment = loop.Offload.Gso && errors.UsesErrorQueue ? UdpSegmentation.MaxBytes : 0;
    }

    protected override bool WithSources => false;

    /// <summary>
    /// Opens the socket: SO_REUSEPORT alone (SO_REUSEADDR would let other local users join the
    /// port), the error queue on, bound to the shared port, connected to the destination; then
    /// whatever was queued while it was bound but not yet connected (anyone's datagrams to that
    /// port) is read and thrown away, so no stranger is ever relayed as the destination's reply.
    /// </summary>
    public static EpollDestinationSocket Open(in DestinationKey destination, int localPort, EventLoop loop, ErrorSource errors, IDatagramHandler handler)
    {
        var family = destination.IsIPv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        var handle = UdpDescriptor.Open(family);
        try
        {
            UdpDescriptor.SetOption(handle, SocketOptions.SOL_SOCKET, SocketOptions.SO_REUSEPORT, 1, "SO_REUSEPORT");
            errors.Enable(handle, family);
            int errno = UdpDescriptor.TryBind(handle, family == AddressFamily.InterNetwork ? System.Net.IPAddress.Any : System.Net.IPAddress.IPv6Any, localPort);
            if (errno != 0)
            {
                throw new TransportException("bind", errno);
            }

            UdpDescriptor.Connect(handle, destination);
            DiscardQueued(handle, errors);
            var socket = new EpollDestinationSocket(handle, loop, errors, family == AddressFamily.InterNetworkV6);
            socket.Register(handler);
            return socket;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public SendResult Send(ReadOnlySpan<byte> payload)
    {
        while (true)
        {
            nint sent;
            try
            {
                fixed (byte* data = payload)
                {
                    sent = Sys.Send(Handle, data, (nuint)payload.Length, MessageFlags.MSG_DONTWAIT);
                }
            }
            catch (ObjectDisposedException)
            {
                return SendResult.Closed;
            }

            if (sent >= 0)
            {
                Loop.CountSent(1);
                return SendResult.Sent;
            }

            int errno = Marshal.GetLastPInvokeError();
            switch (errno)
            {
                case Errno.EINTR:
                    continue;
                case Errno.EAGAIN or Errno.ENOBUFS:
                    return SendResult.BufferFull;
                default:
                    if (ErrnoTable.IsClosed(errno) || IsDisposed)
                    {
                        return SendResult.Closed;
                    }

                    ReportErrors(errno);
                    return SendResult.ErrorReported;
            }
        }
    }

    public bool TryQueue(DatagramBatch batch, ReadOnlySpan<byte> payload)
    {
        if (!batch.Holds(payload))
        {
            throw new ArgumentException("Only a payload in the batch being handled can wait for the flush.", nameof(payload));
        }

        fixed (byte* data = payload)
        {
            return !IsDisposed && Loop.Outbox.TryAdd(ref _queued, data, payload.Length);
        }
    }

    public SendOutcome Flush()
    {
        var list = Loop.SendList;
        list.Begin(default);
        if (Loop.Outbox.TakeInto(ref _queued, list) == 0)
        {
            return default;
        }

        if (IsDisposed)
        {
            return new SendOutcome(0, 0, 0, list.Count, 0);
        }

        var outcome = list.Send(Handle, ref _maxSegment, this);
        Loop.CountSent(outcome.Sent);
        return outcome;
    }

    bool ISendErrors.OnSendError(int errno)
    {
        if (ErrnoTable.IsClosed(errno) || IsDisposed)
        {
            return false;
        }

        ReportErrors(errno);
        return true;
    }

    bool ISendErrors.ReportHeld() => _errors.UsesErrorQueue && !IsDisposed && ReportErrors(0) > 0;

    public int SetTtl(int ttl)
    {
        // -1 is the kernel's "back to the default" for both IP_TTL and IPV6_UNICAST_HOPS.
        int value = ttl == 0 ? -1 : ttl;
        try
        {
            int result = _ipv6
                ? Sys.SetSockOpt(Handle, SocketOptions.SOL_IPV6, SocketOptions.IPV6_UNICAST_HOPS, &value, sizeof(int))
                : Sys.SetSockOpt(Handle, SocketOptions.SOL_IP, SocketOptions.IP_TTL, &value, sizeof(int));
            return result == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        catch (ObjectDisposedException)
        {
            return Errno.EBADF;
        }
    }

    protected override void OnDisposed() => Loop.Outbox.Forget(ref _queued);

    protected override void OnErrorSignalled()
    {
        if (_errors.UsesErrorQueue)
        {
            ReportErrors(0);
        }
    }

    protected override bool OnReadError(int errno)
    {
        if (ErrnoTable.IsClosed(errno) || IsDisposed)
        {
            return false;
        }

        ReportErrors(errno);
        return true;
    }

    /// <summary>
    /// Reads and drops what was queued before the socket was connected: strangers' datagrams to
    /// the shared port (without a buffer: MSG_TRUNC with length 0), and errors meant for some
    /// other four-tuple (an ICMP for a destination just evicted can land on the new socket while
    /// it is still unconnected). A pending error is returned by one read and then cleared, so the
    /// loop goes on past it; it stops at EAGAIN (empty) and is bounded in any case.
    /// </summary>
    internal static void DiscardQueued(SafeHandle handle, ErrorSource errors)
    {
        errors.Discard(handle);
        for (int i = 0; i < 4096; i++)
        {
            if (Sys.Recv(handle, null, 0, MessageFlags.MSG_DONTWAIT | MessageFlags.MSG_TRUNC) >= 0)
            {
                continue;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EAGAIN || ErrnoTable.IsClosed(errno))
            {
                return;
            }
        }
    }

    private int ReportErrors(int errno)
    {
        var reports = Loop.ErrorScratch;
        reports.Clear();
        int count = _errors.Read(Handle, errno, reports);
        if (count > 0)
        {
            Handler!.OnErrors(CollectionsMarshal.AsSpan(reports));
        }

        return count;
    }
}
