using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>True where struct epoll_event is packed (x86-64 alone); the JIT folds the branches on it.</summary>
        public static readonly bool EpollEventIsPacked = RuntimeInformation.ProcessArchitecture == Architecture.X64;

        /// <summary>
        /// Why this process cannot use the structures above as the kernel lays them out, or null when
        /// it can: checked once at start, so a platform they do not fit fails there with a reason
        /// instead of reading garbage later.
        /// </summary>
        public static string? CheckLayouts()
        {
            if (!OperatingSystem.IsLinux())
            {
                return "the relay needs Linux (epoll, recvmmsg/sendmmsg and the kernel's ICMP error queue)";
            }

            if (IntPtr.Size != 8 || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
            {
                return $"the native layouts are written for 64-bit x86-64 and arm64, this is {RuntimeInformation.ProcessArchitecture}";
            }

            (string Name, int Actual, int Expected)[] checks =
            [
                ("sizeof(msghdr)", Marshal.SizeOf<MsgHdr>(), 56),
                ("offsetof(msghdr, msg_namelen)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.NameLength)), 8),
                ("offsetof(msghdr, msg_iov)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Iov)), 16),
                ("offsetof(msghdr, msg_iovlen)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.IovLength)), 24),
                ("offsetof(msghdr, msg_control)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Control)), 32),
                ("offsetof(msghdr, msg_controllen)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.ControlLength)), 40),
                ("offsetof(msghdr, msg_flags)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Flags)), 48),
                ("sizeof(mmsghdr)", Marshal.SizeOf<MMsgHdr>(), 64),
                ("offsetof(mmsghdr, msg_len)", (int)Marshal.OffsetOf<MMsgHdr>(nameof(MMsgHdr.Length)), 56),
                ("sizeof(iovec)", Marshal.SizeOf<IoVec>(), 16),
                ("sizeof(cmsghdr)", Marshal.SizeOf<CmsgHdr>(), 16),
                ("sizeof(sock_extended_err)", Marshal.SizeOf<SockExtendedErr>(), 16),
                ("offsetof(sock_extended_err, ee_info)", (int)Marshal.OffsetOf<SockExtendedErr>(nameof(SockExtendedErr.Info)), 8),
                ("sizeof(epoll_event)", EpollEventIsPacked ? Marshal.SizeOf<EpollEventPacked>() : Marshal.SizeOf<EpollEventAligned>(), EpollEventIsPacked ? 12 : 16),
            ];
            foreach (var (name, actual, expected) in checks)
            {
                if (actual != expected)
                {
                    return $"{name} is {actual}, expected {expected}";
                }
            }

            return null;
        }
    }
}
