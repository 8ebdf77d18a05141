using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// The fallback where the kernel has no readable error queue (not Linux, an unexpected ABI, or the
/// option refused): nothing is switched on and nothing is read, so errors are known only from the
/// errno of a failed operation (<see cref="SocketErrorClassifier"/>).
/// </summary>
internal sealed class NullErrorQueueReader : IErrorQueueReader
{
    public static NullErrorQueueReader Instance { get; } = new();

    private NullErrorQueueReader()
    {
    }

    public bool IsSupported => false;

    public bool Enable(Socket socket) => false;

    public int Drain(Socket socket, List<SocketErrorReport> reports) => 0;
}
