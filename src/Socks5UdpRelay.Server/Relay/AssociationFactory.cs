using System.Net;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>Builds associations from the server-wide services each one shares with the others.</summary>
internal sealed class AssociationFactory(
    AssociationSettings settings,
    DestinationPolicy policy,
    OutboundPortRegistry ports,
    CachingResolver resolver,
    ByteBudget nameBytes,
    LocalAddresses hostAddresses,
    NoticeService notices,
    RelayMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger("Socks5UdpRelay.Udp");
    private long _nextId;

    /// <summary>
    /// An association on <paramref name="client"/> for the TCP peer <paramref name="peer"/>
    /// (datagrams accepted from its address, and from <paramref name="fixedPort"/> when not 0),
    /// reporting through <paramref name="writer"/>.
    /// </summary>
    public UdpAssociation Create(IClientSocket client, IPEndPoint peer, ushort fixedPort, INoticeSink writer, string? user = null)
    {
        var counters = new AssociationCounters();
        var router = notices.CreateRouter(writer, counters, peer);
        return new UdpAssociation(settings, client, peer, fixedPort, router, counters, policy, ports, resolver, nameBytes, hostAddresses, metrics, time, _logger,
            Interlocked.Increment(ref _nextId), user);
    }
}
