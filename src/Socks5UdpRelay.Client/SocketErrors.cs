using System.Net.Sockets;

namespace Socks5UdpRelay.Client;

/// <summary>Sorts socket errors on the client's relay-facing UDP socket.</summary>
internal static class SocketErrors
{
    /// <summary>
    /// Errors a connected UDP socket reports for an ICMP error about an earlier datagram (the
    /// relay port closed, or a proxy such as Dante, run as root, sending fake ICMP errors): they
    /// say nothing about the datagram at hand and never end the association.
    /// </summary>
    public static bool IsIcmpReported(SocketError error) => error is
        SocketError.ConnectionRefused
        or SocketError.ConnectionReset
        or SocketError.HostUnreachable
        or SocketError.NetworkUnreachable
        or SocketError.HostDown
        or SocketError.AccessDenied
        or SocketError.ProtocolOption
        or SocketError.MessageSize;
}
