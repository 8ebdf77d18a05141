namespace Socks5UdpRelay.Server.Hosting;

/// <summary>The <c>Relay</c> configuration section. Every default is chosen for a single host on loopback and documented in config/appsettings.json.</summary>
internal sealed class RelayOptions
{
    public const string SectionName = "Relay";

    /// <summary>SOCKS TCP listen endpoints, <c>127.0.0.1:1080</c> or <c>[::1]:1080</c>. No default here: lists bound from configuration append to defaults, so config/appsettings.json carries it.</summary>
    public List<string> Listen { get; set; } = [];

    /// <summary>Addresses (at most one per family) put in UDP ASSOCIATE replies instead of the local one: for NAT and containers. Empty: the address the client connected to.</summary>
    public List<string> AdvertisedAddress { get; set; } = [];

    /// <summary><c>first-last</c> ports for client-facing relay sockets (the ones a container must publish). Empty: any free port.</summary>
    public string? UdpPortRange { get; set; }

    /// <summary>
    /// False (default): a UDP ASSOCIATE naming 0.0.0.0:0 (or another address) is served, and its
    /// association takes datagrams from whichever port of the client's address sends first.
    /// True: only a request naming the client's own address (the TCP peer's) and a non-zero UDP port
    /// is served; any other is answered 0x02, logged and counted (<c>reason=client-port</c>). Then no
    /// other program on the client's host, or behind the same NAT address, can send first and take
    /// the association over (README, "Security"). The client library and s5nc name their port.
    /// </summary>
    public bool RequireClientPort { get; set; }

    /// <summary><c>on</c> (default) or <c>off</c>: whether notices are written on the control connection.</summary>
    public string Notices { get; set; } = "on";

    /// <summary>
    /// <c>on</c> (default) or <c>off</c>: whether a client may send commands on its association's
    /// control connection (<c>SET</c>, <c>MAP</c>, <c>UNMAP</c>; README, "Client commands"). Only
    /// while notices are on: with notices off there is no greeting, and bytes from the client are
    /// read and thrown away.
    /// </summary>
    public string Commands { get; set; } = "on";

    /// <summary>
    /// <c>on</c> (default) or <c>off</c>: whether a client may ask for <c>CMD=0x05</c>, datagrams
    /// framed on its TCP connection (README, "UDP over TCP"), for networks that block UDP to the
    /// proxy. Off, the request is answered "command not supported" (0x07).
    /// </summary>
    public string UdpOverTcp { get; set; } = "on";

    /// <summary>
    /// Mappings (<c>MAP</c>) one association may hold, mapping 0 included. Each holds an outbound
    /// port (a host has about 28 000) and a socket per destination; 64 lets a TUN gateway give as
    /// many program sockets their own port on one association, and it opens another when full.
    /// </summary>
    public int MaxMappingsPerAssociation { get; set; } = 64;

    /// <summary>Commands per second one association may send after the burst; past it they are answered <c>reason=rate-limit</c>. A gateway sends about two per program socket.</summary>
    public int CommandsPerSecond { get; set; } = 2000;

    /// <summary>Commands one association may send at once above the steady rate.</summary>
    public int CommandBurst { get; set; } = 2000;

    /// <summary>
    /// Who besides the destinations a mapping sent to may send in through its outbound port
    /// (README, "NAT behaviour"; RFC 4787 REQ-8): <c>address-dependent</c> (default: any port of an
    /// address sent to), <c>address-and-port-dependent</c> (only an address and port sent to),
    /// <c>endpoint-independent</c> (anyone: full cone, for STUN, WebRTC, games). Anything but the
    /// second costs one more socket per mapping and family in use.
    /// </summary>
    public string Filtering { get; set; } = "address-dependent";

    /// <summary>Unsolicited datagrams per second one mapping may relay after the burst (those from a source with no destination socket of its own); the rest are dropped and counted.</summary>
    public int InboundDatagramsPerSecond { get; set; } = 5000;

    /// <summary>Unsolicited datagrams one mapping may relay at once above the steady rate.</summary>
    public int InboundBurst { get; set; } = 5000;

    /// <summary>
    /// Event-loop threads carrying the UDP sockets (README, "Performance"). 0 (default): one per
    /// processor the process may use (a container's CPU limit counts), at most 64; or 1 to 64.
    /// Associations are spread over them; one association stays on one loop.
    /// </summary>
    public int EventLoops { get; set; }

    /// <summary>The loops to run: <see cref="EventLoops"/>, or one per processor when 0.</summary>
    public int EventLoopCount => EventLoops > 0 ? EventLoops : Math.Min(Environment.ProcessorCount, Transport.Epoll.EpollTransport.MaxLoops);

    /// <summary>Largest payload relayed either way. 65 000 leaves room for any SOCKS header inside a 65 507-byte IPv4 datagram.</summary>
    public int MaxDatagramSize { get; set; } = 65_000;

    /// <summary>Time a client has from TCP connect to a complete request. Short, because a half-open handshake holds a socket for nothing.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A destination socket with no datagram either way for this long is closed (a later datagram reopens it).</summary>
    public TimeSpan DestinationIdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>An association with no datagram either way for this long gets <c>CLOSING reason=idle-timeout</c> and is closed. Zero disables.</summary>
    public TimeSpan AssociationIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Destination sockets one association may hold; past it the least recently used one is closed (never a refusal).</summary>
    public int MaxDestinationsPerAssociation { get; set; } = 256;

    /// <summary>Notice lines buffered per control connection for a client that reads slowly; past it notices are dropped and counted.</summary>
    public int NoticeQueueLength { get; set; } = 64;

    /// <summary>Notices per second per destination and kind after the burst; the rest are counted in <c>suppressed=</c>.</summary>
    public double NoticesPerSecond { get; set; } = 5;

    /// <summary>Notices per destination and kind that may go out at once.</summary>
    public int NoticeBurst { get; set; } = 5;

    /// <summary>How long a resolved name is reused.</summary>
    public TimeSpan ResolverCacheTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a name lookup may take before <c>UDP-UNRESOLVED reason=timeout</c>.</summary>
    public TimeSpan ResolveTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Name lookups in flight at once, server-wide; past it a datagram to a new name gets
    /// <c>UDP-UNRESOLVED reason=busy</c> at once. Bounds what a client spraying names that never
    /// resolve can take from everyone else.
    /// </summary>
    public int MaxConcurrentLookups { get; set; } = 64;

    /// <summary>Name lookups one association may have in flight at once (a client rarely needs more than a few names at a time).</summary>
    public int MaxLookupsPerAssociation { get; set; } = 8;

    /// <summary>Bytes of datagrams one association may hold waiting for their names: 256 KiB holds four of the largest datagrams or thousands of DNS queries.</summary>
    public long MaxPendingNameBytesPerAssociation { get; set; } = 256 * 1024;

    /// <summary>Bytes of datagrams all associations together may hold waiting for names: 32 MiB, well inside a 512 MiB container.</summary>
    public long MaxPendingNameBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Of a name's addresses, use IPv6 first (default: IPv4 first).</summary>
    public bool PreferIPv6 { get; set; }

    /// <summary>
    /// <c>dns</c> (default): /etc/hosts, then DNS as /etc/resolv.conf configures it, asynchronously,
    /// so a lookup ends at <see cref="ResolveTimeout"/> and holds no thread. <c>system</c>:
    /// getaddrinfo (honours nsswitch.conf), whose abandoned lookups hold a thread until the system
    /// resolver gives up.
    /// </summary>
    public string Resolver { get; set; } = "dns";

    /// <summary><c>auto</c> (default): read the kernel's ICMP error queue where the OS has one; <c>off</c>: errno only (fewer details).</summary>
    public string ErrorQueue { get; set; } = "auto";

    /// <summary>
    /// <c>auto</c> (default): UDP segmentation offload where the kernel has it, GRO on the sockets
    /// that read bulk and GSO for runs of equal-sized datagrams (the README, "Performance");
    /// <c>off</c>: one datagram per read and per send.
    /// </summary>
    public string Offload { get; set; } = "auto";

    /// <summary>Time a CONNECT may take to reach its destination.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// True (default): socket completions run on the socket engine's own thread instead of hopping
    /// to the thread pool. The relay's datagram work never blocks, and skipping the hop (two context
    /// switches per datagram) measured 30-50 % more datagrams/s and a lower RTT on two cores. Read
    /// once at start; <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>, when set, wins.
    /// </summary>
    public bool InlineSocketCompletions { get; set; } = true;

    /// <summary>On SIGTERM/SIGINT: how long associations get to receive <c>CLOSING reason=shutdown</c> and close before the process exits anyway.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    public bool UsesSystemResolver => string.Equals(Resolver, "system", StringComparison.OrdinalIgnoreCase);

    public bool NoticesEnabled => string.Equals(Notices, "on", StringComparison.OrdinalIgnoreCase);

    public bool UdpOverTcpEnabled => string.Equals(UdpOverTcp, "on", StringComparison.OrdinalIgnoreCase);

    /// <summary>Commands are offered only with notices on (the greeting offers them).</summary>
    public bool CommandsEnabled => NoticesEnabled && string.Equals(Commands, "on", StringComparison.OrdinalIgnoreCase);
}
