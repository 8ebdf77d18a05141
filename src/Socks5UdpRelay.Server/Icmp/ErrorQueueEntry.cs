using System.Net;
using System.Runtime.InteropServices;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// One entry of the kernel's error queue, as recvmsg(MSG_ERRQUEUE) returns it: msg_name is the
/// original destination; the control area holds a cmsghdr at SOL_IP/IP_RECVERR or
/// SOL_IPV6/IPV6_RECVERR whose data is a sock_extended_err and then the offender's sockaddr
/// (SO_EE_OFFENDER; AF_UNSPEC when there is none). Pure code over spans: tested byte by byte.
/// </summary>
internal static class ErrorQueueEntry
{
    /// <summary>
    /// The report an entry gives; false for an entry that is no error (ee_errno 0: a timestamp or
    /// zero-copy notification), or has no error control message, or a truncated one.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> name, ReadOnlySpan<byte> control, out ErrorReport report)
    {
        report = default;
        int headerSize = Marshal.SizeOf<CmsgHdr>();
        int errorSize = Marshal.SizeOf<SockExtendedErr>();
        int offset = 0;
        int receivedTtl = 0;
        bool found = false;
        while (offset + headerSize <= control.Length)
        {
            var header = MemoryMarshal.Read<CmsgHdr>(control[offset..]);
            if (header.Length < (nuint)headerSize || header.Length > (nuint)(control.Length - offset))
            {
                return false;
            }

            int length = (int)header.Length;
            var data = control.Slice(offset + headerSize, length - headerSize);
            bool isError = (header.Level == SocketOptions.SOL_IP && header.Type == SocketOptions.IP_RECVERR)
                || (header.Level == SocketOptions.SOL_IPV6 && header.Type == SocketOptions.IPV6_RECVERR);
            bool isTtl = (header.Level == SocketOptions.SOL_IP && header.Type == SocketOptions.IP_TTL)
                || (header.Level == SocketOptions.SOL_IPV6 && header.Type == SocketOptions.IPV6_HOPLIMIT);
            if (isError && !found && data.Length >= errorSize)
            {
                var error = MemoryMarshal.Read<SockExtendedErr>(data);
                if (error.Errno == 0)
                {
                    return false;
                }

                RawSocketAddress.TryRead(data[errorSize..], out var offender, out _);
                IPEndPoint? destination = RawSocketAddress.TryRead(name, out var address, out int port) ? new IPEndPoint(address, port) : null;
                report = ToReport(error, offender, destination);
                found = true;
            }
            else if (isTtl && data.Length >= sizeof(int))
            {
                // IP_RECVTTL / IPV6_RECVHOPLIMIT: the TTL the ICMP error itself arrived with (an int).
                receivedTtl = Math.Clamp(MemoryMarshal.Read<int>(data), 0, 255);
            }

            offset += (length + CmsgHdr.Alignment - 1) & ~(CmsgHdr.Alignment - 1);
        }

        if (found && receivedTtl > 0)
        {
            report = report with { ReceivedTtl = receivedTtl };
        }

        return found;
    }

    private static ErrorReport ToReport(SockExtendedErr error, IPAddress? offender, IPEndPoint? destination)
    {
        int errno = (int)Math.Min(error.Errno, int.MaxValue);
        var (origin, kind) = error.Origin switch
        {
            ErrorOrigins.SO_EE_ORIGIN_ICMP => (ErrorOrigin.Icmp, UdpErrorKinds.FromIcmp(error.Type, error.Code)),
            ErrorOrigins.SO_EE_ORIGIN_ICMP6 => (ErrorOrigin.Icmp6, UdpErrorKinds.FromIcmp6(error.Type, error.Code)),
            ErrorOrigins.SO_EE_ORIGIN_LOCAL => (ErrorOrigin.Local, ErrnoTable.Kind(errno)),
            _ => (ErrorOrigin.None, ErrnoTable.Kind(errno)),
        };

        // ee_info is the MTU for frag-needed (3/4), packet-too-big (ICMPv6 2/0) and a local EMSGSIZE
        // (ip_local_error / ipv6_local_error); for other entries it means nothing to us.
        bool carriesMtu = origin switch
        {
            ErrorOrigin.Icmp => error.Type == 3 && error.Code == 4,
            ErrorOrigin.Icmp6 => error.Type == 2 && error.Code == 0,
            ErrorOrigin.Local => errno == Errno.EMSGSIZE,
            _ => false,
        };
        int mtu = carriesMtu ? (int)Math.Min(error.Info, int.MaxValue) : 0;
        return new ErrorReport(kind, errno, origin, error.Type, error.Code, offender, mtu, destination);
    }
}
