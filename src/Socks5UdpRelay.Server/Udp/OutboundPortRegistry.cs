using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>
/// Hands out the one local port that all destination sockets of an association share. A port is
/// handed out only after an exclusive bind to it succeeded on both families (so no other socket
/// holds it) and only if no other association of this process holds it: binding port 0 with a
/// reuse option is no allocation, as the kernel may give a port another reuse socket already has.
/// </summary>
internal sealed class OutboundPortRegistry
{
    private const int Attempts = 64;
    private readonly HashSet<int> _held = [];
    private readonly Lock _lock = new();
    private readonly bool _ipv6;

    public OutboundPortRegistry()
    {
        _ipv6 = Socket.OSSupportsIPv6;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>A free port, or 0 when none was found (the caller reports a failure).</summary>
    public int Allocate()
    {
        for (int i = 0; i < Attempts; i++)
        {
            int port = ProbeFreePort();
            if (port == 0)
            {
                continue;
            }

            lock (_lock)
            {
                if (_held.Add(port))
                {
                    return port;
                }
            }
        }

        return 0;
    }

    public void Release(int port)
    {
        lock (_lock)
        {
            _held.Remove(port);
        }
    }

    public bool IsHeld(int port)
    {
        lock (_lock)
        {
            return _held.Contains(port);
        }
    }

    private int ProbeFreePort()
    {
        using var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            v4.Bind(new IPEndPoint(IPAddress.Any, 0));
        }
        catch (SocketException)
        {
            return 0;
        }

        int port = ((IPEndPoint)v4.LocalEndPoint!).Port;
        if (!_ipv6)
        {
            return port;
        }

        try
        {
            using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = false };
            v6.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            return port;
        }
        catch (SocketException)
        {
            return 0;
        }
    }
}
