using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>The fallback without an error queue: errors are known by their errno alone.</summary>
internal sealed class NullErrorQueueReader : IErrorQueueReader
{
    public static NullErrorQueueReader Instance { get; } = new();

    public bool IsSupported => false;

    public bool Enable(Socket socket) => false;

    public int Drain(Socket socket, List<SocketErrorReport> reports) => 0;
}
