using System.Net;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// Binds an association's client-facing socket: to any free port, or within
/// <c>Relay:UdpPortRange</c> so a container can publish the range. Rotates through the range so a
/// port just released is not handed out again at once (late datagrams of the old association).
/// </summary>
internal sealed class ClientPortAllocator
{
    private readonly int _first;
    private readonly int _last;
    private int _next;

    public ClientPortAllocator(int first, int last)
    {
        _first = first;
        _last = last;
        _next = first;
    }

    public static ClientPortAllocator Any { get; } = new(0, 0);

    public bool IsRange => _first != 0;

    /// <summary>A socket bound on <paramref name="address"/>, or null when every port of the range is taken.</summary>
    public SafeDescriptorHandle? Bind(IPAddress address)
    {
        if (!IsRange)
        {
            return BindOrThrow(address, 0);
        }

        int span = _last - _first + 1;
        for (int i = 0; i < span; i++)
        {
            int offset = (Interlocked.Increment(ref _next) - _first) % span;
            int port = _first + ((offset + span) % span);
            var socket = UdpDescriptor.Open(address.AddressFamily);
            if (UdpDescriptor.TryBind(socket, address, port) == 0)
            {
                return socket;
            }

            socket.Dispose();
        }

        return null;
    }

    private static SafeDescriptorHandle BindOrThrow(IPAddress address, int port)
    {
        var socket = UdpDescriptor.Open(address.AddressFamily);
        int errno = UdpDescriptor.TryBind(socket, address, port);
        if (errno != 0)
        {
            socket.Dispose();
            throw new TransportException("bind", errno);
        }

        return socket;
    }
}
