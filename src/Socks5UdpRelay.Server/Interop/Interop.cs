namespace Socks5UdpRelay.Server;

/// <summary>
/// Every native call of the server, in one place (the shape of dotnet/runtime's
/// <c>Interop.Sys</c>): one file per call or group of structures, <c>LibraryImport</c> with
/// <see cref="System.Runtime.InteropServices.SafeHandle"/> parameters so the marshaller holds a
/// reference on the descriptor for the length of the call (no <c>DangerousAddRef</c> at call
/// sites, and a descriptor closed under a call can never be reused by another socket meanwhile).
/// The structures are declared once (<c>Interop.Structs.cs</c>) and their layouts checked once at
/// start (<see cref="Sys.CheckLayouts"/>). Linux only, LP64 (x86-64, arm64); see ARCHITECTURE.md.
/// </summary>
internal static partial class Interop
{
    /// <summary>The C library's calls. Each returns -1 (or a negative count) with the errno in <c>Marshal.GetLastPInvokeError()</c>.</summary>
    internal static partial class Sys
    {
        private const string Libc = "libc";
    }
}
