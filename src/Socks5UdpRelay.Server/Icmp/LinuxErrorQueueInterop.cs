using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// recvmsg(2) and the structures of the Linux error queue, for LP64 (x86-64, arm64) only;
/// <see cref="LinuxErrorQueueReader.TryCreate"/> checks the layouts before anything is read.
/// </summary>
internal static partial class LinuxErrorQueueInterop
{
    public const int SOL_IP = 0;
    public const int IP_RECVERR = 11;
    public const int SOL_IPV6 = 41;
    public const int IPV6_RECVERR = 25;

    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_ERRQUEUE = 0x2000;

    public const ushort AF_UNSPEC = 0;
    public const ushort AF_INET = 2;
    public const ushort AF_INET6 = 10;

    /// <summary>sock_extended_err.ee_origin (linux/errqueue.h).</summary>
    public const byte SO_EE_ORIGIN_LOCAL = 1;
    public const byte SO_EE_ORIGIN_ICMP = 2;
    public const byte SO_EE_ORIGIN_ICMP6 = 3;

    /// <summary>sizeof(struct sockaddr_in).</summary>
    public const int SockaddrInSize = 16;

    /// <summary>sizeof(struct sockaddr_in6).</summary>
    public const int SockaddrIn6Size = 28;

    /// <summary>CMSG_ALIGN: control messages start on size_t boundaries.</summary>
    public const int CmsgAlignment = 8;

    /// <summary>Returns the byte count, or -1 with the errno in <see cref="Marshal.GetLastPInvokeError"/>.</summary>
    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static unsafe partial nint RecvMsg(int fd, MsgHdr* msg, int flags);

    /// <summary>
    /// struct msghdr, 56 bytes:
    /// <code>
    ///  0 void*   msg_name         8 socklen_t msg_namelen (+4 pad)
    /// 16 iovec*  msg_iov         24 size_t    msg_iovlen
    /// 32 void*   msg_control     40 size_t    msg_controllen
    /// 48 int     msg_flags (+4 pad)
    /// </code>
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public nint Name;
        public uint NameLen;
        public nint Iov;
        public nuint IovLen;
        public nint Control;
        public nuint ControlLen;
        public int Flags;
    }

    /// <summary>struct iovec, 16 bytes: <c>void* iov_base; size_t iov_len</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    /// <summary>struct cmsghdr, 16 bytes: <c>size_t cmsg_len; int cmsg_level; int cmsg_type</c>; data at +16.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr
    {
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
    public struct SockExtendedErr
    {
        public uint Errno;
        public byte Origin;
        public byte Type;
        public byte Code;
        public byte Pad;
        public uint Info;
        public uint Data;
    }

    /// <summary>Why the layouts above do not match what this reader was written for, or null if they do.</summary>
    public static string? CheckLayouts()
    {
        if (IntPtr.Size != 8)
        {
            return $"pointer size is {IntPtr.Size}, the error-queue reader knows LP64 layouts only";
        }

        (string Name, int Actual, int Expected)[] checks =
        [
            ("sizeof(msghdr)", Marshal.SizeOf<MsgHdr>(), 56),
            ("offsetof(msghdr, msg_namelen)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.NameLen)), 8),
            ("offsetof(msghdr, msg_iov)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Iov)), 16),
            ("offsetof(msghdr, msg_iovlen)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.IovLen)), 24),
            ("offsetof(msghdr, msg_control)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Control)), 32),
            ("offsetof(msghdr, msg_controllen)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.ControlLen)), 40),
            ("offsetof(msghdr, msg_flags)", (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Flags)), 48),
            ("sizeof(iovec)", Marshal.SizeOf<IoVec>(), 16),
            ("sizeof(cmsghdr)", Marshal.SizeOf<CmsgHdr>(), 16),
            ("sizeof(sock_extended_err)", Marshal.SizeOf<SockExtendedErr>(), 16),
            ("offsetof(sock_extended_err, ee_info)", (int)Marshal.OffsetOf<SockExtendedErr>(nameof(SockExtendedErr.Info)), 8),
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
