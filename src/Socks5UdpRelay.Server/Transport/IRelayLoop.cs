using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Transport;

/// <summary>
/// One engine thread. Everything an association does runs on its loop (datagrams, errors, sweeps,
/// resolved names, its close), so an association's state needs no lock.
/// </summary>
internal interface IRelayLoop
{
    /// <summary>
    /// A UDP socket bound to <paramref name="localPort"/> (shared by the association's destination
    /// sockets: SO_REUSEPORT alone, never SO_REUSEADDR) and connected to
    /// <paramref name="destination"/>, so the kernel reports that destination's ICMP errors on it;
    /// whatever strangers queued on it before it was connected is discarded. Its replies and
    /// errors go to <paramref name="handler"/>. Call on this loop. Throws
    /// <see cref="TransportException"/> with the errno when the kernel refuses.
    /// </summary>
    IDestinationSocket OpenDestination(in DestinationKey destination, int localPort, IDatagramHandler handler);

    /// <summary>
    /// An unconnected UDP socket of <paramref name="family"/> joined to <paramref name="localPort"/>
    /// (SO_REUSEPORT alone, as the destination sockets there): it receives exactly the datagrams to
    /// that port that no connected socket matches (anyone's, with their sources), while each
    /// destination socket keeps its own replies and ICMP errors. Call on this loop. Throws
    /// <see cref="TransportException"/> with the errno when the kernel refuses.
    /// </summary>
    IInboundSocket OpenInbound(System.Net.Sockets.AddressFamily family, int localPort, IDatagramHandler handler);

    /// <summary>Runs <paramref name="work"/> on this loop's thread, after what it is doing now, in the order posted. Callable from any thread.</summary>
    void Post(Action<object?> work, object? state);
}
