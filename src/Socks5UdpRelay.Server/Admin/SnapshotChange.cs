using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// Whether an association changed between two snapshots, for the stream: everything but the
/// durations that only grow with time (age, idle time left, last seen, an error's age), which a
/// reader advances itself. Without traffic an association therefore sends nothing.
/// </summary>
internal static class SnapshotChange
{
    public static bool Same(AssociationSnapshot a, AssociationSnapshot b)
    {
        if (a.Id != b.Id || a.User != b.User || !Equals(a.ClientUdp, b.ClientUdp) || !a.Relay.Equals(b.Relay) || a.Mode != b.Mode || a.Filtering != b.Filtering
            || a.DatagramsFromClient != b.DatagramsFromClient || a.BytesFromClient != b.BytesFromClient
            || a.DatagramsToClient != b.DatagramsToClient || a.BytesToClient != b.BytesToClient || a.InboundRelayed != b.InboundRelayed
            || a.Drops.Count != b.Drops.Count || a.Mappings.Count != b.Mappings.Count)
        {
            return false;
        }

        foreach (var (reason, count) in a.Drops)
        {
            if (!b.Drops.TryGetValue(reason, out long other) || other != count)
            {
                return false;
            }
        }

        for (int i = 0; i < a.Mappings.Count; i++)
        {
            if (!Same(a.Mappings[i], b.Mappings[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Same(MappingSnapshot a, MappingSnapshot b)
    {
        if (a.Number != b.Number || a.OutboundPort != b.OutboundPort || a.KnownAddresses != b.KnownAddresses || a.Destinations.Count != b.Destinations.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Destinations.Count; i++)
        {
            var (x, y) = (a.Destinations[i], b.Destinations[i]);
            if (x.Destination != y.Destination || x.Address != y.Address || x.Ttl != y.Ttl
                || x.DatagramsSent != y.DatagramsSent || x.BytesSent != y.BytesSent || x.DatagramsReceived != y.DatagramsReceived || x.BytesReceived != y.BytesReceived
                || !Same(x.LastError, y.LastError))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Same(ErrorSnapshot? a, ErrorSnapshot? b)
        => a is null || b is null ? a is null && b is null : (a with { Ago = TimeSpan.Zero }) == (b with { Ago = TimeSpan.Zero });
}
