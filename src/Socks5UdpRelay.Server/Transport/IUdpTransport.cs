using System.Net;

namespace Socks5UdpRelay.Server.Transport;

/// <summary>
/// The seam between the relay and the I/O engine (ARCHITECTURE.md, "Transport"): the engine owns
/// sockets, readiness and batches; the relay owns associations, policy and headers. The relay
/// never touches a socket: it asks for one here and gets datagrams and errors through an
/// <see cref="IDatagramHandler"/>.
/// </summary>
internal interface IUdpTransport
{
    /// <summary>
    /// Binds a new association's client-facing socket on <paramref name="local"/>, on a port of
    /// <c>Relay:UdpPortRange</c> when one is configured. Null when every port of the range is
    /// taken. Throws <see cref="TransportException"/> for other failures.
    /// </summary>
    IClientSocket? BindClient(IPAddress local);

    /// <summary>
    /// The loop a new association without a UDP socket of its own (UDP over TCP) runs on. Throws
    /// <see cref="TransportException"/> when the engine has stopped.
    /// </summary>
    IRelayLoop PickLoop();

    /// <summary>Sets every loop's datagram counters back to 0, on each loop's thread: what ran before the server opened (its warm-up) is not the clients' traffic.</summary>
    Task ResetStatisticsAsync();
}
