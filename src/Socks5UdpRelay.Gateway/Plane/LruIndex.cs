namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>
/// A fixed number of slots indexed by key, in least-recently-used order: finding, adding (which
/// takes the least recently used slot when all are taken) and touching cost O(1) and allocate
/// nothing once built (the dictionary is sized for every slot up front). Not thread-safe.
/// </summary>
internal sealed class LruIndex<TKey>
    where TKey : struct, IEquatable<TKey>
{
    private const int None = -1;

    private readonly Dictionary<TKey, int> _slots;
    private readonly TKey[] _keys;
    private readonly int[] _newer;
    private readonly int[] _older;
    private readonly Stack<int> _free;
    private int _newest = None;
    private int _oldest = None;

    public LruIndex(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new Dictionary<TKey, int>(capacity);
        _keys = new TKey[capacity];
        _newer = new int[capacity];
        _older = new int[capacity];
        _free = new Stack<int>(Enumerable.Range(0, capacity).Reverse());
    }

    public int Capacity => _keys.Length;

    public int Count => _slots.Count;

    /// <summary>The least recently used slot, or −1 when empty.</summary>
    public int Oldest => _oldest;

    public TKey KeyAt(int slot) => _keys[slot];

    /// <summary>The key's slot, or −1.</summary>
    public int Find(in TKey key) => _slots.TryGetValue(key, out int slot) ? slot : None;

    /// <summary>
    /// Adds a key that is not present and makes it the most recent. When every slot is taken the
    /// least recently used key is dropped: <paramref name="evicted"/> is then true and
    /// <paramref name="evictedKey"/> names it.
    /// </summary>
    public int Add(in TKey key, out bool evicted, out TKey evictedKey)
    {
        evicted = false;
        evictedKey = default;
        if (!_free.TryPop(out int slot))
        {
            slot = _oldest;
            evicted = true;
            evictedKey = _keys[slot];
            Remove(slot);
            _free.Pop();
        }

        _keys[slot] = key;
        _slots.Add(key, slot);
        LinkNewest(slot);
        return slot;
    }

    /// <summary>Makes the slot the most recently used.</summary>
    public void Touch(int slot)
    {
        if (slot != _newest)
        {
            Unlink(slot);
            LinkNewest(slot);
        }
    }

    public void Remove(int slot)
    {
        _slots.Remove(_keys[slot]);
        _keys[slot] = default;
        Unlink(slot);
        _free.Push(slot);
    }

    private void LinkNewest(int slot)
    {
        _older[slot] = _newest;
        _newer[slot] = None;
        if (_newest != None)
        {
            _newer[_newest] = slot;
        }

        _newest = slot;
        if (_oldest == None)
        {
            _oldest = slot;
        }
    }

    private void Unlink(int slot)
    {
        int newer = _newer[slot];
        int older = _older[slot];
        if (newer != None)
        {
            _older[newer] = older;
        }
        else
        {
            _newest = older;
        }

        if (older != None)
        {
            _newer[older] = newer;
        }
        else
        {
            _oldest = newer;
        }

        _newer[slot] = None;
        _older[slot] = None;
    }
}
