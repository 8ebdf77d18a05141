using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>One address that did not accept the TCP connection, and why.</summary>
internal sealed record ConnectFailure(IPEndPoint EndPoint, SocketError Error);
