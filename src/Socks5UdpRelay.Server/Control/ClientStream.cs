using System.Net.Sockets;
using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// Reading a client's TCP connection (an association's control connection, or a UDP-over-TCP
/// stream), the same for both: the reader waits with a zero-byte receive, holding no buffer, then
/// takes what is there without waiting.
/// </summary>
internal static class ClientStream
{
    /// <summary>
    /// Takes what the socket holds into <paramref name="destination"/> without waiting: the bytes
    /// taken; 0 when nothing was there after all; -1 when the connection has ended, and then
    /// <paramref name="association"/> has been ended as the client ended it (closed or reset).
    /// </summary>
    public static int TakeAvailable(Socket socket, Span<byte> destination, UdpAssociation association)
    {
        int received = socket.Receive(destination, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return 0;
        }

        if (error != SocketError.Success)
        {
            association.End(AssociationEnd.ClientReset);
            return -1;
        }

        if (received == 0)
        {
            association.End(AssociationEnd.ClientClosed);
            return -1;
        }

        return received;
    }

    /// <summary>How the client ended its connection, when a socket operation threw: reset (a socket error) or closed (the socket disposed under the reader).</summary>
    public static AssociationEnd EndOf(Exception e) => e is SocketException ? AssociationEnd.ClientReset : AssociationEnd.ClientClosed;
}
