using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>Loopback UDP ports with nothing bound: the kernel answers them with port unreachable.</summary>
internal static class FreePort
{
    /// <summary>Bound and released: another process could take it, which would show as a wrong verdict, not a hang.</summary>
    public static int ClosedUdp()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public static int Tcp()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// A loopback address of its own (127.x.y.z) for services that must sit on a fixed port (53,
    /// 123, 161), so tests, and other users of the machine, do not collide on 127.0.0.1.
    /// </summary>
    public static IPAddress UniqueLoopbackAddress()
    {
        int n = Random.Shared.Next(1, 250);
        return new IPAddress([127, 77, (byte)Random.Shared.Next(1, 250), (byte)n]);
    }
}
