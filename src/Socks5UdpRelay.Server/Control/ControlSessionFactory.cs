using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Control;

/// <summary>A session for each accepted connection, over the commands every session shares.</summary>
internal sealed class ControlSessionFactory(Handshake handshake, AssociateCommand associate, UdpOverTcp.UdpOverTcpCommand udpOverTcp, ConnectRelay connect, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger("Socks5UdpRelay.Control");

    public ControlSession Create(Socket connection) => new(connection, handshake, associate, udpOverTcp, connect, _logger);
}
