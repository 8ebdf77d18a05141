using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// Takes associations' snapshots where their state lives, on their loops (ARCHITECTURE.md,
/// "Threads"): nothing is locked and the datagram path does not wait. A few associations per
/// visit, so a loop carrying a thousand of them relays between visits instead of stalling for all.
/// </summary>
internal sealed class FlowReader(AssociationRegistry registry)
{
    /// <summary>Associations snapshotted per visit to a loop: about 32 × 2 µs of the loop's time at once.</summary>
    public const int Chunk = 32;

    /// <summary>The live associations in id order (the order pages and streams show them in).</summary>
    public IEnumerable<UdpAssociation> InIdOrder() => registry.Associations.OrderBy(a => a.Id);

    /// <summary>Snapshots of <paramref name="associations"/>, in their order; those ending meanwhile are left out.</summary>
    public async Task<List<AssociationSnapshot>> ReadAsync(IReadOnlyList<UdpAssociation> associations, CancellationToken cancellationToken)
    {
        var snapshots = new List<AssociationSnapshot>(associations.Count);
        for (int start = 0; start < associations.Count; start += Chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int end = Math.Min(start + Chunk, associations.Count);
            int from = start;
            // Consecutive associations of one loop are read in one visit; a run ends where the loop changes.
            while (from < end)
            {
                var loop = associations[from].Loop;
                int to = from;
                while (to < end && associations[to].Loop == loop)
                {
                    to++;
                }

                int first = from, last = to;
                await loop.InvokeAsync(() =>
                {
                    for (int i = first; i < last; i++)
                    {
                        if (!associations[i].IsEnding)
                        {
                            snapshots.Add(associations[i].Snapshot());
                        }
                    }
                }).WaitAsync(cancellationToken).ConfigureAwait(false);
                from = to;
            }
        }

        return snapshots;
    }

    /// <summary>One page: the first <see cref="FlowQuery.Limit"/> matches after <see cref="FlowQuery.After"/>, and whether more follow.</summary>
    public async Task<(List<AssociationSnapshot> Page, bool More)> ReadPageAsync(FlowQuery query, CancellationToken cancellationToken)
    {
        var page = new List<AssociationSnapshot>();
        var candidates = InIdOrder().Where(query.MayMatch).ToList();
        for (int start = 0; start < candidates.Count && page.Count <= query.Limit; start += Chunk)
        {
            var batch = await ReadAsync(candidates.GetRange(start, Math.Min(Chunk, candidates.Count - start)), cancellationToken).ConfigureAwait(false);
            page.AddRange(batch.Where(query.Matches));
        }

        bool more = page.Count > query.Limit;
        if (more)
        {
            page.RemoveRange(query.Limit, page.Count - query.Limit);
        }

        return (page, more);
    }
}
