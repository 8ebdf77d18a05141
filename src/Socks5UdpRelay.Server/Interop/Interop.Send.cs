using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>send(2) on a connected socket: the bytes sent, or -1 and the errno.</summary>
        [LibraryImport(Libc, EntryPoint = "send", SetLastError = true)]
        public static unsafe partial nint Send(SafeHandle socket, byte* buffer, nuint length, int flags);
    }
}
