using System.Globalization;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// Linux errno numbers (asm-generic/errno-base.h, errno.h; the same on x86-64 and arm64) to the
/// symbolic names a notice carries. Numbers without a name here become <c>E&lt;number&gt;</c>.
/// </summary>
internal static class ErrnoNames
{
    public const int EPERM = 1;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EINVAL = 22;
    public const int ENOTSOCK = 88;
    public const int EMSGSIZE = 90;
    public const int ENOPROTOOPT = 92;
    public const int EOPNOTSUPP = 95;
    public const int ENETUNREACH = 101;
    public const int ECONNRESET = 104;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EHOSTDOWN = 112;
    public const int EHOSTUNREACH = 113;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETDOWN = 100;
    public const int ENOBUFS = 105;

    /// <summary>The name of a Linux errno; literals for the known ones, so no allocation on the usual path.</summary>
    public static string Get(int errno) => errno switch
    {
        EPERM => "EPERM",
        EINTR => "EINTR",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        EACCES => "EACCES",
        EINVAL => "EINVAL",
        64 => "ENONET",
        ENOTSOCK => "ENOTSOCK",
        EMSGSIZE => "EMSGSIZE",
        ENOPROTOOPT => "ENOPROTOOPT",
        EOPNOTSUPP => "EOPNOTSUPP",
        ENETUNREACH => "ENETUNREACH",
        ECONNRESET => "ECONNRESET",
        ETIMEDOUT => "ETIMEDOUT",
        ECONNREFUSED => "ECONNREFUSED",
        EHOSTDOWN => "EHOSTDOWN",
        EHOSTUNREACH => "EHOSTUNREACH",
        _ => "E" + errno.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>What .NET reports for a Linux errno, for errors read with a system call of our own (as its sockets would have given them).</summary>
    public static SocketError ToSocketError(int errno) => errno switch
    {
        EPERM or EACCES => SocketError.AccessDenied,
        EINTR => SocketError.Interrupted,
        EBADF => SocketError.OperationAborted,
        EAGAIN => SocketError.WouldBlock,
        EINVAL => SocketError.InvalidArgument,
        ENOTSOCK => SocketError.NotSocket,
        EMSGSIZE => SocketError.MessageSize,
        ENOPROTOOPT => SocketError.ProtocolOption,
        EOPNOTSUPP => SocketError.OperationNotSupported,
        EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        ENETDOWN => SocketError.NetworkDown,
        ENETUNREACH => SocketError.NetworkUnreachable,
        ECONNRESET => SocketError.ConnectionReset,
        ENOBUFS => SocketError.NoBufferSpaceAvailable,
        ETIMEDOUT => SocketError.TimedOut,
        ECONNREFUSED => SocketError.ConnectionRefused,
        EHOSTDOWN => SocketError.HostDown,
        EHOSTUNREACH => SocketError.HostUnreachable,
        _ => SocketError.SocketError,
    };
}
