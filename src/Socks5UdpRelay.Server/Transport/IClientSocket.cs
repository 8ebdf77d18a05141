using System.Net;

namespace Socks5UdpRelay.Server.Transport;

/// <summary>An association's client-facing UDP socket, and the engine thread its association runs on.</summary>
internal interface IClientSocket : IClientChannel, IDisposable
{
    IPEndPoint LocalEndPoint { get; }

    /// <summary>How the client's datagrams travel: UDP, or framed on the control connection (UDP over TCP).</summary>
    ClientTransport Transport => ClientTransport.Udp;

    /// <summary>The engine thread this socket, and every destination socket of its association, is served by.</summary>
    IRelayLoop Loop { get; }

    /// <summary>Starts delivering the client's datagrams (with their sources) to <paramref name="handler"/>, on <see cref="Loop"/>.</summary>
    void Start(IDatagramHandler handler);
}

/// <summary>How an association's client reaches it.</summary>
internal enum ClientTransport
{
    /// <summary>UDP ASSOCIATE: datagrams to and from the association's UDP port.</summary>
    Udp,

    /// <summary><c>CMD=0x05</c>: datagrams framed on the TCP control connection.</summary>
    Tcp,
}
