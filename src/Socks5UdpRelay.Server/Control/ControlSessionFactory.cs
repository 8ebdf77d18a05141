using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Control;

/// <summary>A session for each accepted connection, over the commands and rules every session shares.</summary>
internal sealed class ControlSessionFactory(
    Handshake handshake, AssociateCommand associate, UdpOverTcp.UdpOverTcpCommand udpOverTcp, ConnectRelay connect, ClientPortRule clientPorts, ClientTracker tracker, ILoggerFactory loggers)
{
    public Handshake Handshake { get; } = handshake;

    public AssociateCommand Associate { get; } = associate;

    public UdpOverTcp.UdpOverTcpCommand UdpOverTcp { get; } = udpOverTcp;

    public ConnectRelay Connect { get; } = connect;

    public ClientPortRule ClientPorts { get; } = clientPorts;

    public ClientTracker Tracker { get; } = tracker;

    public ILogger Logger { get; } = loggers.CreateLogger("Socks5UdpRelay.Control");

    public ControlSession Create(Socket connection, ClientSlot slot) => new(connection, slot, this);
}
