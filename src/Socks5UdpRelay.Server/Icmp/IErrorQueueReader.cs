using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// Reads the kernel's per-socket error queue (Linux IP_RECVERR / IPV6_RECVERR), which names the
/// ICMP type/code, the offender and the MTU, and surfaces errors a plain connected socket never
/// reports (host/net unreachable, TTL exceeded). Implementations: the Linux reader and a
/// fallback that reports nothing (the errno of the failed operation is then all there is).
/// </summary>
internal interface IErrorQueueReader
{
    /// <summary>True when <see cref="Enable"/> switches the queue on and <see cref="Drain"/> reads it.</summary>
    bool IsSupported { get; }

    /// <summary>Switches the error queue on for a UDP socket before it is used (both options on a dual-mode socket). Returns false if the kernel refused.</summary>
    bool Enable(Socket socket);

    /// <summary>
    /// Reads every queued entry until the queue is empty (which also clears the socket's pending
    /// error), appending one report each; returns how many were read. Never blocks, never throws
    /// for an empty queue or a closed socket.
    /// </summary>
    int Drain(Socket socket, List<SocketErrorReport> reports);
}
