using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// A client's association slot (README, "Security"), taken the same way by each command that opens
/// an association (UDP ASSOCIATE, UDP over TCP): the caller gives it back with
/// <see cref="ClientTracker.CloseAssociation"/> once the association has ended.
/// </summary>
internal static class AssociationSlot
{
    /// <summary>Takes a slot for <paramref name="peer"/>; with none left, logs, counts and refuses the client (X'02') and returns false.</summary>
    public static bool TryOpen(ClientTracker clients, Socket control, IPEndPoint peer, RelayMetrics metrics, ILogger logger)
    {
        if (clients.TryOpenAssociation(peer.Address, out string? limit))
        {
            return true;
        }

        Log.AssociationLimit(logger, peer, limit);
        metrics.RecordRefusedAssociation(RefusalReasons.Limit);
        ReplyWriter.Failure(control, ReplyCode.ConnectionNotAllowed);
        return false;
    }
}
