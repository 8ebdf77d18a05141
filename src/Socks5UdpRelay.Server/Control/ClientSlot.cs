using System.Net;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// One control connection's place in <see cref="ClientTracker"/>'s counts, from accept to close:
/// the client it counts against (an IPv6 client by its /64), the network its unfinished handshake
/// counts against, and whether that handshake is still open.
/// </summary>
internal sealed class ClientSlot(IPAddress client, IPAddress network)
{
    private int _handshakeOpen = 1;
    private int _closed;

    /// <summary>The key of the per-client limits.</summary>
    public IPAddress Client { get; } = client;

    /// <summary>The key of <c>Limits:MaxHandshakesPerNetwork</c>.</summary>
    public IPAddress Network { get; } = network;

    /// <summary>True once, for whoever ends the handshake first (the session, or the close).</summary>
    internal bool TryEndHandshake() => Interlocked.Exchange(ref _handshakeOpen, 0) == 1;

    /// <summary>True once, for the first close.</summary>
    internal bool TryClose() => Interlocked.Exchange(ref _closed, 1) == 0;
}
