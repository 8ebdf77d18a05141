using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Udp;

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
    public Socket? Bind(IPAddress address)
    {
        if (!IsRange)
        {
            var socket = NewSocket(address);
            socket.Bind(new IPEndPoint(address, 0));
            return socket;
        }

        int span = _last - _first + 1;
        for (int i = 0; i < span; i++)
        {
            int offset = (Interlocked.Increment(ref _next) - _first) % span;
            int port = _first + ((offset + span) % span);
            var socket = NewSocket(address);
            try
            {
                socket.Bind(new IPEndPoint(address, port));
                return socket;
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }

        return null;
    }

    private static Socket NewSocket(IPAddress address)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.DualMode = false;
        }

        return socket;
    }
}
