using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>RLIMIT_NOFILE on Linux (every architecture .NET runs on).</summary>
        public const int RLIMIT_NOFILE = 7;

        [StructLayout(LayoutKind.Sequential)]
        public struct RLimit
        {
            public ulong Current;
            public ulong Maximum;
        }

        [LibraryImport(Libc, EntryPoint = "getrlimit", SetLastError = true)]
        public static partial int GetRLimit(int resource, out RLimit limit);

        [LibraryImport(Libc, EntryPoint = "setrlimit", SetLastError = true)]
        public static partial int SetRLimit(int resource, in RLimit limit);
    }
}
