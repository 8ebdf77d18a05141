using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Gateway.Tun;

/// <summary>
/// The libc calls of the TUN device, in one place. Constants are Linux's generic values
/// (x86-64 and arm64 agree on all of them). Handles go in as <see cref="SafeHandle"/>, so the
/// marshaller holds a reference for the length of each call.
/// </summary>
internal static unsafe partial class LibC
{
    public const int O_RDWR = 0x2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENXIO = 6;

    public const short POLLIN = 0x1;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    /// <summary>_IOW('T', 202, int): attach to (or create) a TUN/TAP interface.</summary>
    public const uint TUNSETIFF = 0x400454CA;

    public const short IFF_TUN = 0x0001;
    public const short IFF_NO_PI = 0x1000;

    /// <summary>IFNAMSIZ, the terminating NUL included.</summary>
    public const int InterfaceNameSize = 16;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(SafeHandle fd, nuint command, InterfaceRequest* request);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(SafeHandle fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(SafeHandle fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    public static partial nint WriteV(SafeHandle fd, IoVector* vectors, int count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint InterfaceNameToIndex(string name);

    /// <summary>struct ifreq as TUNSETIFF reads it: the name, then the flags (a 40-byte union in all).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    public struct InterfaceRequest
    {
        [FieldOffset(0)]
        public fixed byte Name[InterfaceNameSize];

        [FieldOffset(16)]
        public short Flags;
    }

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollDescriptor
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }
}
