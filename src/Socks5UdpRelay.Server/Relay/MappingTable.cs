using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Notices;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// An association's mappings (README, "Client commands": <c>MAP</c>, <c>UNMAP</c>): mapping 0,
/// which every association has, and those the client made, each with its own outbound port and
/// destinations, at most <c>Relay:MaxMappingsPerAssociation</c>. Until the client makes one,
/// a datagram's RSV field means nothing (some clients put junk there, RFC 1928 §7 calls it
/// reserved) and every datagram belongs to mapping 0. Loop thread only.
/// </summary>
internal sealed class MappingTable
{
    private readonly Dictionary<ushort, Mapping> _others = [];
    private readonly Func<ushort, long, Mapping> _create;
    private readonly NoticeRouter _notices;
    private readonly TimeProvider _time;
    private readonly int _max;
    private ushort _next = 1;

    public MappingTable(Func<ushort, long, Mapping> create, int maxMappings, NoticeRouter notices, TimeProvider time)
    {
        _create = create;
        _max = maxMappings;
        _notices = notices;
        _time = time;
        First = create(0, time.GetTimestamp());
    }

    /// <summary>Mapping 0.</summary>
    public Mapping First { get; }

    /// <summary>True once the client made a mapping: from then on RSV selects the mapping.</summary>
    public bool InUse { get; private set; }

    /// <summary>Mappings held, mapping 0 included.</summary>
    public int Count => 1 + _others.Count;

    public int DestinationCount
    {
        get
        {
            int count = First.Destinations.Count;
            foreach (var mapping in _others.Values)
            {
                count += mapping.Destinations.Count;
            }

            return count;
        }
    }

    /// <summary>The mapping a datagram with this RSV belongs to; null for one the association does not hold.</summary>
    public Mapping? ForDatagram(ushort rsv) => !InUse || rsv == 0 ? First : _others.GetValueOrDefault(rsv);

    public Mapping? Get(ushort number) => number == 0 ? First : _others.GetValueOrDefault(number);

    /// <summary>Every mapping, 0 first (loop thread only).</summary>
    public IEnumerable<Mapping> All => _others.Values.Prepend(First);

    /// <summary>A new mapping with its outbound port taken; null with the failure's reason.</summary>
    public Mapping? Add(out CommandFailureReason failure)
    {
        failure = CommandFailureReason.Limit;
        if (Count >= _max)
        {
            return null;
        }

        // The next number not held, wrapping past 65535 back to 1.
        for (int tries = 0; tries < ushort.MaxValue && _others.ContainsKey(_next); tries++)
        {
            _next = _next == ushort.MaxValue ? (ushort)1 : (ushort)(_next + 1);
        }

        ushort number = _next;
        var mapping = _create(number, _time.GetTimestamp());
        if (mapping.Destinations.ReservePort() == 0)
        {
            return null; // no outbound port free: a limit of the host
        }

        _others.Add(number, mapping);
        _next = _next == ushort.MaxValue ? (ushort)1 : (ushort)(_next + 1);
        InUse = true;
        return mapping;
    }

    /// <summary>Closes mapping <paramref name="number"/> (not 0) and its sockets at once; false when it is not held.</summary>
    public bool Remove(ushort number)
    {
        if (number == 0 || !_others.Remove(number, out var mapping))
        {
            return false;
        }

        mapping.Close();
        return true;
    }

    /// <summary>Closes idle destinations everywhere, and the mappings the client made that were idle for <paramref name="timeout"/>, telling it.</summary>
    public void SweepIdle(long now, TimeSpan timeout)
    {
        First.Destinations.SweepIdle(now, timeout, _time);
        First.Inbound.SweepIdle(now, timeout);
        List<ushort>? idle = null;
        foreach (var (number, mapping) in _others)
        {
            mapping.Destinations.SweepIdle(now, timeout, _time);
            mapping.Inbound.SweepIdle(now, timeout);
            if (_time.GetElapsedTime(mapping.LastActivity, now) >= timeout)
            {
                (idle ??= []).Add(number);
            }
        }

        foreach (ushort number in idle ?? [])
        {
            Remove(number);
            _notices.MappingClosed(number, DestinationClosedReasons.Idle);
        }
    }

    /// <summary>The most recent activity of any mapping, or <paramref name="since"/> when later.</summary>
    public long LastActivity(long since)
    {
        since = First.Destinations.LastActivity(since);
        foreach (var mapping in _others.Values)
        {
            since = mapping.Destinations.LastActivity(since);
        }

        return since;
    }

    public void CloseAll()
    {
        First.Close();
        foreach (var mapping in _others.Values)
        {
            mapping.Close();
        }

        _others.Clear();
    }
}
