namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    /// <summary>Linux errno numbers (asm-generic/errno-base.h, errno.h: the same on x86-64 and arm64).</summary>
    internal static class Errno
    {
        public const int EPERM = 1;
        public const int EINTR = 4;
        public const int EIO = 5;
        public const int EBADF = 9;
        public const int EAGAIN = 11;
        public const int EACCES = 13;
        public const int EINVAL = 22;
        public const int ENONET = 64;
        public const int ENOTSOCK = 88;
        public const int EMSGSIZE = 90;
        public const int ENOPROTOOPT = 92;
        public const int EOPNOTSUPP = 95;
        public const int EAFNOSUPPORT = 97;
        public const int EADDRINUSE = 98;
        public const int EADDRNOTAVAIL = 99;
        public const int ENETDOWN = 100;
        public const int ENETUNREACH = 101;
        public const int ECONNRESET = 104;
        public const int ENOBUFS = 105;
        public const int ETIMEDOUT = 110;
        public const int ECONNREFUSED = 111;
        public const int EHOSTDOWN = 112;
        public const int EHOSTUNREACH = 113;
    }
}
