using System.Net;

namespace Socks5UdpRelay.Gateway.Notices;

/// <summary>
/// One ICMP or ICMPv6 error to write into the device: what it says and who says it. The program's
/// datagram it quotes and the program's address come from the gateway's last datagram of the flow.
/// </summary>
/// <param name="Type">ICMP type (3, 11, 12) or ICMPv6 type (1, 2, 3, 4), matching the flow's family.</param>
/// <param name="Code">The code within the type.</param>
/// <param name="Info">The next-hop MTU (ICMP 3/4), the MTU (ICMPv6 2/0) or the pointer (ICMP 12, ICMPv6 4); 0 otherwise.</param>
/// <param name="Reporter">The error's source: a router or the destination, never one of the local host's own addresses.</param>
/// <param name="Ttl">The error's TTL / hop limit.</param>
public readonly record struct IcmpErrorSpec(byte Type, byte Code, uint Info, IPAddress Reporter, byte Ttl);
