using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// An unconnected socket on an association's outbound port (SO_REUSEPORT alone, joined to the
/// connected destination sockets there): the kernel hands it the datagrams that match no
/// connected socket, read with their sources. No error queue: nothing is sent from it.
/// </summary>
internal sealed class EpollInboundSocket : EpollSocket, IInboundSocket
{
    private EpollInboundSocket(SafeHandle handle, EventLoop loop)
        : base(handle, loop)
    {
    }

    protected override bool WithSources => true;

    public static EpollInboundSocket Open(AddressFamily family, int localPort, EventLoop loop, IDatagramHandler handler)
    {
        var handle = UdpDescriptor.Open(family);
        try
        {
            UdpDescriptor.SetOption(handle, SocketOptions.SOL_SOCKET, SocketOptions.SO_REUSEPORT, 1, "SO_REUSEPORT");
            int errno = UdpDescriptor.TryBind(handle, family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, localPort);
            if (errno != 0)
            {
                throw new TransportException("bind", errno);
            }

            var socket = new EpollInboundSocket(handle, loop);
            socket.Register(handler);
            return socket;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    protected override void OnErrorSignalled()
    {
    }

    protected override bool OnReadError(int errno) => !IsDisposed;
}
