namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>
/// The program sockets the gateway tracks, keyed by (address, port), bounded: a new flow beyond
/// <see cref="LruIndex{TKey}.Capacity"/> closes the least recently active one. Not thread-safe (the
/// packet plane holds its lock).
/// </summary>
internal sealed class FlowTable
{
    private readonly LruIndex<FlowKey> _index;
    private readonly int[] _generations;
    private readonly long[] _lastActive;
    private int _nextGeneration;

    public FlowTable(int capacity)
    {
        _index = new LruIndex<FlowKey>(capacity);
        _generations = new int[capacity];
        _lastActive = new long[capacity];
    }

    public int Count => _index.Count;

    /// <summary>The flow of <paramref name="key"/>, added when new; marks it active at <paramref name="now"/>.</summary>
    public FlowId GetOrAdd(in FlowKey key, long now, out bool added, out FlowId evicted)
    {
        evicted = default;
        int slot = _index.Find(key);
        added = slot < 0;
        if (added)
        {
            int oldestSlot = _index.Oldest;
            slot = _index.Add(key, out bool wasEvicted, out _);
            if (wasEvicted)
            {
                evicted = new FlowId(oldestSlot, _generations[oldestSlot]);
            }

            // Generations start at 1 so that default(FlowId) never names a flow.
            _generations[slot] = ++_nextGeneration;
        }
        else
        {
            _index.Touch(slot);
        }

        _lastActive[slot] = now;
        return new FlowId(slot, _generations[slot]);
    }

    /// <summary>The program endpoint of a live flow; false when the flow is unknown or closed.</summary>
    public bool TryGet(FlowId flow, out FlowKey key)
    {
        key = default;
        int slot = flow.Slot;
        // A closed flow's slot has generation 0 or a newer flow's generation.
        if (flow.Generation == 0 || (uint)slot >= (uint)_generations.Length || _generations[slot] != flow.Generation)
        {
            return false;
        }

        key = _index.KeyAt(slot);
        return true;
    }

    /// <summary>Marks a live flow active (a reply reached it).</summary>
    public void Touch(FlowId flow, long now)
    {
        if (TryGet(flow, out _))
        {
            _index.Touch(flow.Slot);
            _lastActive[flow.Slot] = now;
        }
    }

    /// <summary>Closes the least recently active flow if it has been idle since before <paramref name="activeSince"/>.</summary>
    public bool TryExpireOldest(long activeSince, out FlowId expired)
    {
        expired = default;
        int slot = _index.Oldest;
        if (slot < 0 || _lastActive[slot] >= activeSince)
        {
            return false;
        }

        expired = new FlowId(slot, _generations[slot]);
        _index.Remove(slot);
        _generations[slot] = 0;
        return true;
    }
}
