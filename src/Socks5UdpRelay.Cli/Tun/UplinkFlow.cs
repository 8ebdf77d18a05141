using Socks5UdpRelay.Gateway.Plane;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>
/// One program socket on the SOCKS side: the mapping it holds, the datagrams waiting for a mapping
/// or for a <c>SET</c> (in the program's order), the TTL in force at the proxy for each
/// destination the program traced, and how much of its exchange was answered (for the idle timeout,
/// the README's "Transparent gateway"). Members that change the mapping, the queue or the TTLs are
/// called with <see cref="Gate"/> held.
/// </summary>
internal sealed class UplinkFlow(FlowId id, long now)
{
    /// <summary>Datagrams kept per flow while it waits; more are dropped and counted, as a full socket buffer drops them.</summary>
    public const int MaxQueued = 64;

    /// <summary>RFC 4787 REQ-5a: the well-known ports (0-1023), for which a NAT may time mappings out sooner.</summary>
    public const int WellKnownPortLimit = 1024;

    private readonly Queue<QueuedDatagram> _queue = new();
    private Dictionary<FlowKey, byte>? _ttls;
    private long _lastActivity = now;
    private long _sent;
    private long _answers;
    private bool _allWellKnown = true;
    private bool _allChosenTtl = true;

    public FlowId Id { get; } = id;

    public Lock Gate { get; } = new();

    /// <summary>The mapping it sends through; null until it has one, and after the proxy closed it.</summary>
    public UplinkMapping? Mapping { get; private set; }

    /// <summary>True while a task sends the queued datagrams (only it sends then, so the order holds).</summary>
    public bool Pumping { get; set; }

    public bool Closed { get; private set; }

    /// <summary>Until this timestamp, new datagrams are dropped: the last try to get a mapping failed.</summary>
    public long RetryAfter { get; set; }

    public int Queued => _queue.Count;

    public long LastActivity => Volatile.Read(ref _lastActivity);

    public long Sent => Volatile.Read(ref _sent);

    public long Answers => Interlocked.Read(ref _answers);

    /// <summary>
    /// True when the flow's exchange looks finished: every datagram it sent was answered (a reply or
    /// an error), and either all went to well-known ports (RFC 4787 REQ-5a: a DNS query and its
    /// answer, NTP) or all carried a TTL the program chose (the probes of traceroute and tracepath).
    /// </summary>
    public bool LooksFinished
    {
        get
        {
            long sent = Sent;
            return sent > 0 && Answers >= sent && (Volatile.Read(ref _allWellKnown) || Volatile.Read(ref _allChosenTtl));
        }
    }

    /// <summary>A datagram from the program (the gateway's reader thread only).</summary>
    public void NoteSent(ushort destinationPort, bool chosenTtl, long now)
    {
        if (destinationPort >= WellKnownPortLimit)
        {
            Volatile.Write(ref _allWellKnown, false);
        }

        if (!chosenTtl)
        {
            Volatile.Write(ref _allChosenTtl, false);
        }

        Interlocked.Increment(ref _sent);
        Volatile.Write(ref _lastActivity, now);
    }

    /// <summary>A reply, or an error written back as ICMP, reached the program.</summary>
    public void NoteAnswer(long now)
    {
        Interlocked.Increment(ref _answers);
        Volatile.Write(ref _lastActivity, now);
    }

    /// <summary>The TTL in force at the proxy for <paramref name="destination"/> on the current mapping; 0 for the default.</summary>
    public byte TtlInForce(in FlowKey destination) =>
        _ttls is { } ttls && ttls.TryGetValue(destination, out byte ttl) ? ttl : (byte)0;

    public void SetTtlInForce(in FlowKey destination, byte ttl)
    {
        if (ttl == 0)
        {
            _ttls?.Remove(destination);
        }
        else
        {
            (_ttls ??= [])[destination] = ttl;
        }
    }

    /// <summary>Starts using <paramref name="mapping"/>: a fresh mapping has no settings.</summary>
    public void Attach(UplinkMapping mapping)
    {
        Mapping = mapping;
        mapping.Flow = this;
        _ttls?.Clear();
    }

    /// <summary>Stops using <paramref name="mapping"/> if it is the current one (the proxy closed it); true when it was.</summary>
    public bool Detach(UplinkMapping mapping)
    {
        if (!ReferenceEquals(Mapping, mapping))
        {
            return false;
        }

        Mapping = null;
        _ttls?.Clear();
        return true;
    }

    public bool TryEnqueue(in FlowKey destination, ReadOnlySpan<byte> payload, byte ttl)
    {
        if (_queue.Count >= MaxQueued)
        {
            return false;
        }

        _queue.Enqueue(QueuedDatagram.Copy(destination, payload, ttl));
        return true;
    }

    /// <summary>Takes the oldest waiting datagram; the caller returns its buffer once sent.</summary>
    public bool TryDequeue(out QueuedDatagram datagram) => _queue.TryDequeue(out datagram);

    /// <summary>Drops what waits; returns how many.</summary>
    public int DropQueued()
    {
        int dropped = _queue.Count;
        while (_queue.TryDequeue(out var datagram))
        {
            datagram.Return();
        }

        return dropped;
    }

    /// <summary>Ends the flow here: what waits is dropped; returns the mapping to release, if any.</summary>
    public UplinkMapping? Close(out int dropped)
    {
        Closed = true;
        dropped = DropQueued();
        var mapping = Mapping;
        Mapping = null;
        return mapping;
    }

    public override string ToString() => Id.ToString();
}
