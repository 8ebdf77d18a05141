using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>One association in a <see cref="FlowState"/>: its latest snapshot, and a version that changes only when <see cref="SnapshotChange"/> sees a change.</summary>
internal sealed record FlowEntry(AssociationSnapshot Snapshot, long Version)
{
    public long Id => Snapshot.Id;
}
