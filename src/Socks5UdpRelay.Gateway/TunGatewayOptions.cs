using System.Net;

namespace Socks5UdpRelay.Gateway;

/// <summary>
/// How the gateway sets up the host. The defaults are documented in the gateway's README
/// ("Routing"); two gateways on one host need different device names, tables, rule priorities
/// and marks.
/// </summary>
public sealed class TunGatewayOptions
{
    /// <summary>The TUN device's name. Default <c>s5tun0</c>.</summary>
    public string DeviceName { get; init; } = "s5tun0";

    /// <summary>The device's MTU: the largest packet a program's datagram becomes before the host fragments it. Default 1500.</summary>
    public int Mtu { get; init; } = 1500;

    /// <summary>
    /// False (default): only UDP that local programs send enters the device (<c>iif lo</c>). True: UDP
    /// this host forwards (from containers, VMs or the LAN, with forwarding on) to the routed prefixes
    /// enters it too, and rides the gateway's proxy credentials.
    /// </summary>
    public bool CaptureForwarded { get; init; }

    /// <summary>The prefixes whose UDP, sent by local programs, enters the device. At least one.</summary>
    public IReadOnlyList<IPNetwork> Routes { get; init; } = [];

    /// <summary>
    /// The device's IPv4 address (a /32), the source of programs' datagrams that did not bind one.
    /// Default 169.254.53.53: link-local, so it is never routed anywhere else.
    /// </summary>
    public IPAddress AddressV4 { get; init; } = IPAddress.Parse("169.254.53.53");

    /// <summary>The device's IPv6 address (a /128). Default <c>fdb5:3535:5353::1</c>, a unique-local address.</summary>
    public IPAddress AddressV6 { get; init; } = IPAddress.Parse("fdb5:3535:5353::1");

    /// <summary>The routing table that holds the device's default routes. Default 5350.</summary>
    public int Table { get; init; } = 5350;

    /// <summary>
    /// The first of the two rule priorities: <c>Priority</c> for the device-mark rule, <c>Priority + 1</c>
    /// for the per-prefix UDP rules. Default 5350: after the local table (0), before main (32766).
    /// </summary>
    public int Priority { get; init; } = 5350;

    /// <summary>
    /// The mark (SO_MARK) of the gateway's own sockets towards the proxy: datagrams carrying any of its
    /// bits never enter the device, even to an address inside a routed prefix. Default 0x1000000, a
    /// single bit (24) that the usual users of marks (Kubernetes 0x4000/0x8000, Tailscale 0xff0000) leave alone.
    /// </summary>
    public uint SocketMark { get; init; } = 0x1000000;

    /// <summary>
    /// The mark nftables puts on every packet arriving from the device, which routes the reverse-path
    /// check through <see cref="Table"/>. Default 0x535301.
    /// </summary>
    public uint DeviceMark { get; init; } = 0x535301;

    /// <summary>Program sockets tracked at once; the least recently used is closed for a new one. Default 4096.</summary>
    public int MaxFlows { get; init; } = 4096;

    /// <summary>
    /// A flow with no datagram either way for this long is closed. Default 2 minutes, RFC 4787
    /// REQ-5's shortest mapping lifetime.
    /// </summary>
    public TimeSpan FlowIdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How many (flow, destination) last datagrams are kept for quoting in ICMP errors, each at most
    /// 1232 bytes; the least recently used is replaced. Default 1024 (about 1.3 MB).
    /// </summary>
    public int LastDatagrams { get; init; } = 1024;

    /// <summary>The TTL / hop limit of the replies the gateway writes to programs. Default 64.</summary>
    public byte ReplyTtl { get; init; } = 64;

    /// <summary>The nftables table (family inet) that marks packets from the device: <c>s5tun_</c> and the device name.</summary>
    public string NftTableName => "s5tun_" + new string([.. DeviceName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
}
