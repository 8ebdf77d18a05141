namespace Socks5UdpRelay.Server;

internal static partial class Interop
{
    /// <summary>Address families (sys/socket.h).</summary>
    internal static class AddressFamilies
    {
        public const ushort AF_UNSPEC = 0;
        public const ushort AF_INET = 2;
        public const ushort AF_INET6 = 10;
    }

    /// <summary>Flags of send/recv and their batch forms (sys/socket.h).</summary>
    internal static class MessageFlags
    {
        public const int MSG_TRUNC = 0x20;
        public const int MSG_DONTWAIT = 0x40;
        public const int MSG_ERRQUEUE = 0x2000;
    }

    /// <summary>Socket option levels and names (asm-generic/socket.h, linux/in.h, linux/in6.h).</summary>
    internal static class SocketOptions
    {
        public const int SOL_SOCKET = 1;
        public const int SO_REUSEPORT = 15;
        public const int SOL_IP = 0;
        public const int IP_TTL = 2;
        public const int IP_RECVERR = 11;
        public const int IP_RECVTTL = 12;
        public const int SOL_IPV6 = 41;
        public const int IPV6_UNICAST_HOPS = 16;
        public const int IPV6_V6ONLY = 26;
        public const int IPV6_RECVERR = 25;
        public const int IPV6_RECVHOPLIMIT = 51;
        public const int IPV6_HOPLIMIT = 52;

        /// <summary>linux/udp.h: UDP's own level, and segmentation offload on it.</summary>
        public const int SOL_UDP = 17;

        /// <summary>GSO: as a control message on sendmsg (a u16), the size every datagram of the buffer is cut to, the last one shorter or equal (Linux 4.18).</summary>
        public const int UDP_SEGMENT = 103;

        /// <summary>GRO: an int socket option; a read may then hold several datagrams of one flow, and a control message (an int) names their size (Linux 5.0).</summary>
        public const int UDP_GRO = 104;
    }

    /// <summary>sock_extended_err.ee_origin (linux/errqueue.h).</summary>
    internal static class ErrorOrigins
    {
        public const byte SO_EE_ORIGIN_LOCAL = 1;
        public const byte SO_EE_ORIGIN_ICMP = 2;
        public const byte SO_EE_ORIGIN_ICMP6 = 3;
    }

    /// <summary>epoll(7) and eventfd(2) constants.</summary>
    internal static class EpollConstants
    {
        public const uint EPOLLIN = 0x001;
        public const uint EPOLLERR = 0x008;
        public const int EPOLL_CTL_ADD = 1;
        public const int EPOLL_CTL_DEL = 2;
        public const int EPOLL_CLOEXEC = 0x80000;
        public const int EFD_CLOEXEC = 0x80000;
        public const int EFD_NONBLOCK = 0x800;
    }
}
