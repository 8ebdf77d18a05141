using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    internal static partial class Sys
    {
        public const int SOCK_DGRAM = 2;
        public const int SOCK_NONBLOCK = 0x800;
        public const int SOCK_CLOEXEC = 0x80000;
        public const int IPPROTO_UDP = 17;

        /// <summary>socket(2) for a non-blocking UDP socket of <paramref name="family"/>, owned by the handle (invalid on failure: see the errno).</summary>
        public static SafeDescriptorHandle UdpSocket(ushort family)
            => new(SocketCreate(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));

        [LibraryImport(Libc, EntryPoint = "setsockopt", SetLastError = true)]
        public static unsafe partial int SetSockOpt(SafeHandle socket, int level, int name, void* value, uint length);

        [LibraryImport(Libc, EntryPoint = "bind", SetLastError = true)]
        public static unsafe partial int Bind(SafeHandle socket, byte* address, uint length);

        [LibraryImport(Libc, EntryPoint = "connect", SetLastError = true)]
        public static unsafe partial int Connect(SafeHandle socket, byte* address, uint length);

        [LibraryImport(Libc, EntryPoint = "getsockname", SetLastError = true)]
        public static unsafe partial int GetSockName(SafeHandle socket, byte* address, uint* length);

        [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
        public static partial int Close(nint fd);

        [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
        private static partial int SocketCreate(int family, int type, int protocol);
    }
}
