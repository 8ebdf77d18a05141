using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// <c>Relay:RequireClientPort</c>: a UDP ASSOCIATE must name the client's own address (the TCP
/// peer's) and a UDP port, so the association takes datagrams from that port alone. A request for
/// 0.0.0.0:0 locks the association to whichever port of the client's address sends first, and any
/// other program there (or behind the same NAT address) can be first (README, "Security").
/// </summary>
internal sealed class ClientPortRule(bool required, RelayMetrics metrics, ILogger logger)
{
    /// <summary>True when the request may go on; false when it was answered 0x02, logged and counted.</summary>
    public bool Admits(Socket control, IPEndPoint peer, Destination requested)
    {
        if (!required || (requested.Address is { } address && EndPoints.Normalize(address).Equals(peer.Address) && requested.Port != 0))
        {
            return true;
        }

        Log.ClientPortRequired(logger, peer, requested.ToString());
        metrics.RecordRefusedAssociation(RefusalReasons.ClientPort);
        ReplyWriter.Failure(control, ReplyCode.ConnectionNotAllowed);
        return false;
    }
}
