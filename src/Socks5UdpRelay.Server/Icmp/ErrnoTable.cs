using System.Globalization;
using Socks5UdpRelay.Protocol;
using static Socks5UdpRelay.Server.Interop.Errno;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// The one table from a Linux errno to what a notice says about it: its symbolic name and the
/// error kind the README's notice section gives it when the errno is all there is ("without the
/// error queue the kind comes from the errno alone"). The kernel's icmp_err_convert[]
/// (net/ipv4/icmp.c) and icmpv6_err_convert (net/ipv6/icmp.c) produce the ICMP rows.
/// </summary>
internal static class ErrnoTable
{
    /// <summary>The symbolic name; literals for the known ones (no allocation on the usual path), <c>E&lt;n&gt;</c> otherwise.</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM",
        EINTR => "EINTR",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        EACCES => "EACCES",
        EINVAL => "EINVAL",
        ENONET => "ENONET",
        ENOTSOCK => "ENOTSOCK",
        EMSGSIZE => "EMSGSIZE",
        ENOPROTOOPT => "ENOPROTOOPT",
        EOPNOTSUPP => "EOPNOTSUPP",
        EAFNOSUPPORT => "EAFNOSUPPORT",
        EADDRINUSE => "EADDRINUSE",
        EADDRNOTAVAIL => "EADDRNOTAVAIL",
        ENETDOWN => "ENETDOWN",
        ENETUNREACH => "ENETUNREACH",
        ECONNRESET => "ECONNRESET",
        ENOBUFS => "ENOBUFS",
        ETIMEDOUT => "ETIMEDOUT",
        ECONNREFUSED => "ECONNREFUSED",
        EHOSTDOWN => "EHOSTDOWN",
        EHOSTUNREACH => "EHOSTUNREACH",
        _ => "E" + errno.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The kind an errno alone gives; EHOSTDOWN (3/7, host unknown) and local failures are <c>unknown</c>.</summary>
    public static UdpErrorKind Kind(int errno) => errno switch
    {
        ECONNREFUSED => UdpErrorKind.PortUnreachable,
        EHOSTUNREACH => UdpErrorKind.HostUnreachable,
        ENETUNREACH => UdpErrorKind.NetUnreachable,
        EACCES => UdpErrorKind.AdminProhibited,
        ENOPROTOOPT => UdpErrorKind.ProtocolUnreachable,
        EMSGSIZE => UdpErrorKind.FragmentationNeeded,
        _ => UdpErrorKind.Unknown,
    };

    /// <summary>
    /// True for the errnos that only mean the socket was closed under the call: never worth a
    /// notice. The relay closes sockets on their own loop thread, so these are a safety net.
    /// </summary>
    public static bool IsClosed(int errno) => errno is EBADF or ENOTSOCK;
}
