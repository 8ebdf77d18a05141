using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>epoll_create1(2), owned by the returned handle (closed with it).</summary>
        public static SafeDescriptorHandle EpollCreate() => new(EpollCreate1(EpollConstants.EPOLL_CLOEXEC));

        /// <summary>eventfd(2), non-blocking, owned by the returned handle: a wake-up an epoll loop can wait on.</summary>
        public static SafeDescriptorHandle EventFd() => new(EventFdCreate(0, EpollConstants.EFD_NONBLOCK | EpollConstants.EFD_CLOEXEC));

        /// <summary>epoll_ctl(2) with an event in this platform's layout.</summary>
        public static unsafe int EpollControl(SafeHandle epoll, int operation, SafeHandle target, uint events, ulong data)
        {
            if (EpollEventIsPacked)
            {
                var packed = new EpollEventPacked { Events = events, Data = data };
                return EpollCtl(epoll, operation, target, &packed);
            }

            var aligned = new EpollEventAligned { Events = events, Data = data };
            return EpollCtl(epoll, operation, target, &aligned);
        }

        [LibraryImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
        public static unsafe partial int EpollWait(SafeHandle epoll, void* events, int maxEvents, int timeoutMilliseconds);

        /// <summary>write(2); the eventfd wake-up writes 8 bytes.</summary>
        [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
        public static unsafe partial nint Write(SafeHandle fd, void* buffer, nuint length);

        /// <summary>read(2); reading an eventfd's 8 bytes resets it.</summary>
        [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
        public static unsafe partial nint Read(SafeHandle fd, void* buffer, nuint length);

        [LibraryImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
        private static partial int EpollCreate1(int flags);

        [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
        private static partial int EventFdCreate(uint initialValue, int flags);

        [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
        private static unsafe partial int EpollCtl(SafeHandle epoll, int operation, SafeHandle target, void* ev);
    }
}
