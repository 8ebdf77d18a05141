using Microsoft.Win32.SafeHandles;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    /// <summary>
    /// A file descriptor the relay opened itself (a UDP socket, epoll, eventfd): closed exactly
    /// once when the last call using it has returned. The relay's UDP sockets are plain
    /// descriptors rather than <see cref="System.Net.Sockets.Socket"/>s: every call on them is
    /// one of ours, and a Socket would add its async machinery to every idle destination.
    /// </summary>
    internal sealed class SafeDescriptorHandle : SafeHandleMinusOneIsInvalid
    {
        public SafeDescriptorHandle()
            : base(ownsHandle: true)
        {
        }

        public SafeDescriptorHandle(int fd)
            : base(ownsHandle: true)
        {
            SetHandle(fd);
        }

        protected override bool ReleaseHandle() => Sys.Close(handle) == 0;
    }
}
