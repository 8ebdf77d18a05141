using System.Net;

namespace Socks5UdpRelay.Server.Transport;

/// <summary>An association's client-facing UDP socket, and the engine thread its association runs on.</summary>
internal interface IClientSocket : IClientChannel, IDisposable
{
    IPEndPoint LocalEndPoint { get; }

    /// <summary>The engine thread this socket, and every destination socket of its association, is served by.</summary>
    IRelayLoop Loop { get; }

    /// <summary>Starts delivering the client's datagrams (with their sources) to <paramref name="handler"/>, on <see cref="Loop"/>.</summary>
    void Start(IDatagramHandler handler);
}
