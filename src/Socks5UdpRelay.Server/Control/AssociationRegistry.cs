using System.Collections.Concurrent;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.Control;

/// <summary>The live associations, for shutdown, limits, metrics and tests.</summary>
internal sealed class AssociationRegistry
{
    private readonly ConcurrentDictionary<UdpAssociation, byte> _associations = new();
    private readonly RelayMetrics _metrics;

    public AssociationRegistry(RelayMetrics metrics, ClientTracker clients)
    {
        _metrics = metrics;
        metrics.Observe(() => _associations.Keys, () => clients.Connections);
    }

    public int Count => _associations.Count;

    public IEnumerable<UdpAssociation> Associations => _associations.Keys;

    /// <summary>The live association with <paramref name="id"/>, or null.</summary>
    public UdpAssociation? Find(long id) => _associations.Keys.FirstOrDefault(a => a.Id == id);

    public void Add(UdpAssociation association) => _associations.TryAdd(association, 0);

    /// <summary>Folds its totals into the metrics as it leaves the live set, so a scrape never counts it twice or not at all.</summary>
    public void Remove(UdpAssociation association) => _metrics.AssociationClosed(association, () => _associations.TryRemove(association, out _));
}
