using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Tests.Shared;

/// <summary>
/// Ports with nothing bound, found by binding port 0 and releasing it: another process could take
/// one in the meantime, which would show as a failed start or a wrong verdict, never as a hang.
/// </summary>
public static class FreePorts
{
    /// <summary>A TCP port free on <paramref name="address"/> (127.0.0.1 unless given; 0.0.0.0 for a server that binds the wildcard).</summary>
    public static int Tcp(IPAddress? address = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address ?? IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>A port free on 127.0.0.1 for TCP and UDP alike, for a program that takes one port for both.</summary>
    public static int TcpAndUdp()
    {
        while (true)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken for UDP: another one.
            }
        }
    }

    /// <summary>A UDP port with nothing bound on <paramref name="address"/> (127.0.0.1 unless given): the kernel answers it with port unreachable.</summary>
    public static int ClosedUdp(IPAddress? address = null) => ClosedUdp(address ?? IPAddress.Loopback, 1)[0];

    /// <summary>
    /// <paramref name="count"/> distinct UDP ports with nothing bound on <paramref name="address"/>:
    /// bound together (so distinct), then released.
    /// </summary>
    public static int[] ClosedUdp(IPAddress address, int count)
    {
        var sockets = new Socket[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                sockets[i] = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                sockets[i].Bind(new IPEndPoint(address, 0));
            }

            return sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port).ToArray();
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket?.Dispose();
            }
        }
    }

    /// <summary><paramref name="address"/> and a UDP port with nothing bound on it.</summary>
    public static IPEndPoint ClosedUdpEndPoint(IPAddress address) => new(address, ClosedUdp(address));

    /// <summary>
    /// <paramref name="count"/> consecutive UDP ports free on 0.0.0.0, below Linux's ephemeral range
    /// (32768 and up) so that no socket bound to port 0 takes one in the meantime: for a server
    /// given a fixed port range, as the container image's is.
    /// </summary>
    public static (int First, int Last) UdpRange(int count)
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int first = Random.Shared.Next(20_000, 32_000 - count);
            var held = new List<Socket>();
            try
            {
                for (int port = first; port < first + count; port++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ExclusiveAddressUse = true };
                    held.Add(socket);
                    socket.Bind(new IPEndPoint(IPAddress.Any, port));
                }

                return (first, first + count - 1);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                continue;
            }
            finally
            {
                held.ForEach(s => s.Dispose());
            }
        }

        throw new InvalidOperationException($"no {count} consecutive free UDP ports below 32000");
    }

    /// <summary>
    /// A loopback address of its own (127.77.y.z) for services that must sit on a fixed port (53,
    /// 123, 161), so tests, and other users of the machine, do not collide on 127.0.0.1.
    /// </summary>
    public static IPAddress UniqueLoopbackAddress() =>
        new([127, 77, (byte)Random.Shared.Next(1, 250), (byte)Random.Shared.Next(1, 250)]);
}
