using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    /// <summary>
    /// struct msghdr (sys/socket.h), 56 bytes on LP64:
    /// <code>
    ///  0 void*   msg_name         8 socklen_t msg_namelen (+4 pad)
    /// 16 iovec*  msg_iov         24 size_t    msg_iovlen
    /// 32 void*   msg_control     40 size_t    msg_controllen
    /// 48 int     msg_flags (+4 pad)
    /// </code>
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct mmsghdr (recvmmsg/sendmmsg): a msghdr and the bytes it carried, 64 bytes on LP64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    /// <summary>struct iovec, 16 bytes: <c>void* iov_base; size_t iov_len</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct cmsghdr, 16 bytes: <c>size_t cmsg_len; int cmsg_level; int cmsg_type</c>; data at +16, entries 8-aligned.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CmsgHdr
    {
        /// <summary>CMSG_ALIGN: control messages start on size_t boundaries.</summary>
        public const int Alignment = 8;

        public nuint Length;
        public int Level;
        public int Type;
    }

    /// <summary>
    /// struct sock_extended_err (linux/errqueue.h), 16 bytes, followed in the same control message
    /// by the offender's sockaddr (SO_EE_OFFENDER):
    /// <code>
    ///  0 u32 ee_errno   4 u8 ee_origin  5 u8 ee_type  6 u8 ee_code  7 u8 ee_pad
    ///  8 u32 ee_info   12 u32 ee_data
    /// </code>
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SockExtendedErr
    {
        public uint Errno;
        public byte Origin;
        public byte Type;
        public byte Code;
        public byte Pad;
        public uint Info;
        public uint Data;
    }

    /// <summary>struct epoll_event on x86-64, where the kernel declares it packed: 12 bytes, data at 4.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct EpollEventPacked
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary>struct epoll_event everywhere else (arm64): naturally aligned, 16 bytes, data at 8.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct EpollEventAligned
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary>Sizes of the socket addresses the relay reads and writes.</summary>
    internal static class Sockaddr
    {
        /// <summary>sizeof(struct sockaddr_in): family (host order) at 0, port (network order) at 2, address at 4.</summary>
        public const int InSize = 16;

        /// <summary>sizeof(struct sockaddr_in6): family, port, flowinfo at 4, address at 8, scope id at 24.</summary>
        public const int In6Size = 28;

        /// <summary>sizeof(struct sockaddr_storage): room for any address.</summary>
        public const int StorageSize = 128;
    }
}
