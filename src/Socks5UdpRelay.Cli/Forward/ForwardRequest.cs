using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Cli.Forward;

/// <summary>What <c>forward</c> was asked to do, after parsing.</summary>
internal sealed record ForwardRequest(IPEndPoint Listen, string Host, int Port, AddressFamily? Family, TimeSpan Idle, int MaxPeers);
