using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// One ICMP or ICMPv6 error message as it arrived at a namespace, with the datagram it quotes.
/// <see cref="Info"/> is the MTU for 3/4 (frag needed) and ICMPv6 2/0 (packet too big), else 0.
/// </summary>
public sealed record IcmpError(
    AddressFamily Family,
    byte Type,
    byte Code,
    IPAddress From,
    uint Info,
    IPEndPoint? OriginalSource,
    IPEndPoint? OriginalDestination,
    long Timestamp)
{
    /// <summary><c>type/code</c>, as the notices write it.</summary>
    public string TypeCode => $"{Type}/{Code}";

    public override string ToString() =>
        $"{(Family == AddressFamily.InterNetworkV6 ? "ICMPv6" : "ICMP")} {TypeCode} from {From} info {Info} about {OriginalSource} -> {OriginalDestination}";
}
