using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>recv(2): the datagram's bytes read (with MSG_TRUNC: its full length), or -1 and the errno.</summary>
        [LibraryImport(Libc, EntryPoint = "recv", SetLastError = true)]
        public static unsafe partial nint Recv(SafeHandle socket, byte* buffer, nuint length, int flags);
    }
}
