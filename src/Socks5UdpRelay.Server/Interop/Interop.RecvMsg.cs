using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>recvmsg(2): with MSG_ERRQUEUE it reads one entry of the socket's error queue.</summary>
        [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
        public static unsafe partial nint RecvMsg(SafeHandle socket, MsgHdr* message, int flags);
    }
}
