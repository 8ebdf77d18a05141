using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Notices;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// Makes the most common reason for "UDP goes nowhere behind a load balancer" obvious. RFC 1928
/// §7 lets an association accept datagrams only from its client, and the server takes the control
/// connection's address for the client's (README, "Association rules"). A NAT that rewrites the
/// TCP connection but not the datagrams (a load balancer with source NAT: Kubernetes'
/// <c>externalTrafficPolicy: Cluster</c>) makes every datagram of the association arrive from
/// another address, and each is dropped. Such a datagram is counted
/// (<c>socks5udprelay.udp.source_mismatch</c>), logged at Warning once per association, and told
/// to the client as <c>UDP-DENIED dst=… reason=source-mismatch from=SOURCE expected=PEER</c>
/// (README, "Notices") at most once a second per association, the rest counted in
/// <c>suppressed=</c>: a sender cannot make the server write more than that, whatever it sends.
/// A datagram from the client's own address but another port is not a mismatch (the association
/// has locked to a port) and is only counted as before. Called on the association's loop, one datagram at a time; checks the raw address without allocating.
/// </summary>
internal sealed class SourceMismatchReporter(IPEndPoint peer, NoticeRouter notices, Metrics.RelayMetrics metrics, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan NoticeInterval = TimeSpan.FromSeconds(1);
    private readonly byte[] _peer = peer.Address.GetAddressBytes();
    private long _nextNotice;
    private long _suppressed;
    private bool _logged;

    /// <summary>For a datagram the association's source filter refused: <paramref name="source"/> is its raw socket address (Linux sockaddr_in / sockaddr_in6).</summary>
    public void OnRefused(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> source)
    {
        // sockaddr_in: family(2) port(2) address(4); sockaddr_in6: family(2) port(2) flowinfo(4) address(16).
        int offset = _peer.Length == 4 ? 4 : 8;
        if (source.Length < offset + _peer.Length)
        {
            return;
        }

        var address = source.Slice(offset, _peer.Length);
        if (address.SequenceEqual(_peer))
        {
            return;
        }

        metrics.RecordSourceMismatch();
        long now = time.GetTimestamp();
        if (_nextNotice != 0 && now < _nextNotice)
        {
            _suppressed++;
            return;
        }

        _nextNotice = now + (long)(NoticeInterval.TotalSeconds * time.TimestampFrequency);
        var from = new IPAddress(address);
        if (!_logged)
        {
            _logged = true;
            Logging.Log.SourceMismatch(logger, peer, from, peer.Address);
        }

        // Only a datagram that is a SOCKS datagram is worth telling the client about (a stranger's noise is not).
        if (UdpRequestHeader.TryParse(datagram, out _, out var destination, out _)
            && notices.SourceMismatch(destination, from.AddressFamily == AddressFamily.InterNetworkV6 && from.IsIPv4MappedToIPv6 ? from.MapToIPv4() : from, peer.Address, _suppressed))
        {
            _suppressed = 0;
        }
    }
}
