using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Socks5UdpRelay.Server.Addressing;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>The few system calls that make a relay UDP socket, each failing with a <see cref="TransportException"/> that carries the errno.</summary>
internal static unsafe class UdpDescriptor
{
    /// <summary>A non-blocking UDP socket; an IPv6 one is IPv6 only, so binding it never claims the IPv4 port too.</summary>
    public static SafeDescriptorHandle Open(AddressFamily family)
    {
        var handle = Sys.UdpSocket(family == AddressFamily.InterNetwork ? AddressFamilies.AF_INET : AddressFamilies.AF_INET6);
        if (handle.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new TransportException("socket", errno);
        }

        try
        {
            if (family == AddressFamily.InterNetworkV6)
            {
                SetOption(handle, SocketOptions.SOL_IPV6, SocketOptions.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public static void SetOption(SafeHandle socket, int level, int name, int value, string what)
    {
        if (Sys.SetSockOpt(socket, level, name, &value, sizeof(int)) != 0)
        {
            throw new TransportException($"setsockopt({what})", Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>bind(2); 0 or the errno (a port in use is an answer here, not an exception).</summary>
    public static int TryBind(SafeHandle socket, IPAddress address, int port)
    {
        byte* sockaddr = stackalloc byte[RawSocketAddress.MaxLength];
        int length = RawSocketAddress.Write(new Span<byte>(sockaddr, RawSocketAddress.MaxLength), address, port);
        return Sys.Bind(socket, sockaddr, (uint)length) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public static void Connect(SafeHandle socket, in DestinationKey destination)
    {
        byte* sockaddr = stackalloc byte[RawSocketAddress.MaxLength];
        int length = RawSocketAddress.Write(new Span<byte>(sockaddr, RawSocketAddress.MaxLength), destination);
        if (Sys.Connect(socket, sockaddr, (uint)length) != 0)
        {
            throw new TransportException("connect", Marshal.GetLastPInvokeError());
        }
    }

    public static IPEndPoint LocalEndPoint(SafeHandle socket)
    {
        byte* sockaddr = stackalloc byte[Sockaddr.StorageSize];
        uint length = Sockaddr.StorageSize;
        if (Sys.GetSockName(socket, sockaddr, &length) != 0)
        {
            throw new TransportException("getsockname", Marshal.GetLastPInvokeError());
        }

        return RawSocketAddress.TryRead(new ReadOnlySpan<byte>(sockaddr, (int)length), out var address, out int port)
            ? new IPEndPoint(address, port)
            : throw new TransportException("getsockname", Errno.EAFNOSUPPORT);
    }
}
