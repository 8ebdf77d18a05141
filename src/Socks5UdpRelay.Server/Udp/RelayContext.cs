using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Resolution;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>The server-wide services every association uses, gathered so an association takes one argument.</summary>
internal sealed class RelayContext(
    RelayOptions options,
    LimitsOptions limits,
    DestinationPolicy policy,
    OutboundPortRegistry outboundPorts,
    ClientPortAllocator clientPorts,
    CachingResolver resolver,
    IErrorQueueReader errorQueue,
    TimeProvider time,
    Metrics.RelayMetrics metrics,
    UdpEventLoop? eventLoop,
    ILogger logger)
{
    public RelayOptions Options { get; } = options;

    public LimitsOptions Limits { get; } = limits;

    public DestinationPolicy Policy { get; } = policy;

    public OutboundPortRegistry OutboundPorts { get; } = outboundPorts;

    public ClientPortAllocator ClientPorts { get; } = clientPorts;

    public CachingResolver Resolver { get; } = resolver;

    public IErrorQueueReader ErrorQueue { get; } = errorQueue;

    public TimeProvider Time { get; } = time;

    public Metrics.RelayMetrics Metrics { get; } = metrics;

    /// <summary>The epoll loop that carries the UDP sockets, or null for async socket loops (not Linux, or <c>Relay:IoEngine=async</c>).</summary>
    public UdpEventLoop? EventLoop { get; } = eventLoop;

    public ILogger Logger { get; } = logger;
}
