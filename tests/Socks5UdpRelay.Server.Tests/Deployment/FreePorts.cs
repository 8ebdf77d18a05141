using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>
/// Ports for a server that binds the image's wildcard address. The image's own ports (1080,
/// 40000-40099, 9180) are fixed, and other test runs on this machine (other worktrees, CI)
/// share its network namespace: a fixed port would collide. So tests put free ones in the same
/// variables an operator would set.
/// </summary>
internal static class FreePorts
{
    public static int Tcp()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// <paramref name="count"/> consecutive UDP ports free on 0.0.0.0, below Linux's ephemeral range
    /// (32768 and up) so that no socket bound to port 0 takes one in the meantime.
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
}
