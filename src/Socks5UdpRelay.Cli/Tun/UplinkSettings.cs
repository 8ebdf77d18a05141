using Socks5UdpRelay.Client;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>How the SOCKS side of <c>s5nc tun</c> treats flows (the README's "Transparent gateway").</summary>
internal sealed record UplinkSettings
{
    /// <summary>Program sockets holding (or waiting for) a mapping at once; datagrams of more are dropped. Default 1024.</summary>
    public int MaxFlows { get; init; } = 1024;

    /// <summary>A flow idle this long releases its mapping: 2 minutes, RFC 4787 REQ-5's least.</summary>
    public TimeSpan Idle { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>A flow that looks finished (<see cref="UplinkFlow.LooksFinished"/>) idle this long releases it (REQ-5a). Default 10 s.</summary>
    public TimeSpan FinishedIdle { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long, after the UDP ASSOCIATE reply, the first line may take to say the proxy speaks
    /// notices: a Socks5UdpRelay server writes its greeting right after the reply, other servers
    /// write nothing. Default 1 s.
    /// </summary>
    public TimeSpan GreetingWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a new flow's datagrams wait for a mapping before they are dropped (the proxy unreachable). Default 5 s.</summary>
    public TimeSpan MappingWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Mappings kept ready (16: a traceroute's first burst of probes, each its own socket, waits for none).</summary>
    public int ReadyMappings { get; init; } = 16;

    /// <summary>Associations kept ready against a proxy without MAP, where each costs a TCP connection.</summary>
    public int ReadyAssociations { get; init; } = 1;

    /// <summary>After a flow failed to get a mapping, how long its new datagrams are dropped before it tries again.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How associations reach the proxy: UDP ASSOCIATE (the default), or UDP over TCP, as <c>--udp-over-tcp</c> settled it for the run.</summary>
    public Socks5UdpTransport Transport { get; init; } = Socks5UdpTransport.Udp;

    /// <summary>
    /// Over TCP, how long a datagram's frame may wait for the proxy to read before the association is
    /// given up: a frame is written whole before the next datagram, so a proxy that reads nothing
    /// would otherwise hold the gateway's reader for as long as TCP keeps the connection. Default 5 s.
    /// </summary>
    public TimeSpan SendStall { get; init; } = TimeSpan.FromSeconds(5);
}
