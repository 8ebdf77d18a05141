using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>recvmmsg(2): up to <paramref name="count"/> datagrams in one call; their count, or -1 and the errno.</summary>
        [LibraryImport(Libc, EntryPoint = "recvmmsg", SetLastError = true)]
        public static unsafe partial int RecvMmsg(SafeHandle socket, MMsgHdr* messages, uint count, int flags, void* timeout);

        /// <summary>sendmmsg(2): sends up to <paramref name="count"/> datagrams; how many went, or -1 and the errno.</summary>
        [LibraryImport(Libc, EntryPoint = "sendmmsg", SetLastError = true)]
        public static unsafe partial int SendMmsg(SafeHandle socket, MMsgHdr* messages, uint count, int flags);
    }
}
