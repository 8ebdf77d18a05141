using System.Net;
using Socks5UdpRelay.Server.Icmp;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>The Linux engine: one <see cref="EventLoop"/> carries every association's sockets.</summary>
internal sealed class EpollTransport : IUdpTransport, IDisposable
{
    private readonly EventLoop _loop;
    private readonly ClientPortAllocator _clientPorts;

    public EpollTransport(ClientPortAllocator clientPorts, ErrorSource errors, Action<Exception> onFault, Action<Exception> onStopped)
    {
        if (Interop.Sys.CheckLayouts() is { } reason)
        {
            throw new PlatformNotSupportedException($"Socks5UdpRelay cannot run here: {reason}.");
        }

        _clientPorts = clientPorts;
        _loop = new EventLoop("socks5-udp", errors, onFault, onStopped);
    }

    public IClientSocket? BindClient(IPAddress local)
    {
        if (_loop.IsStopped)
        {
            throw new TransportException("bind on a stopped UDP event loop", Interop.Errno.ENETDOWN);
        }

        var handle = _clientPorts.Bind(local);
        if (handle is null)
        {
            return null;
        }

        try
        {
            return new EpollClientSocket(handle, _loop);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public IRelayLoop PickLoop() => _loop.IsStopped ? throw new TransportException("UDP event loop stopped", Interop.Errno.ENETDOWN) : _loop;

    public void Dispose() => _loop.Dispose();
}
