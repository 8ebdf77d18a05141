using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Metrics;

/// <summary>
/// The server's instruments, on meter <c>Socks5UdpRelay</c> (readable by dotnet-counters and
/// the Prometheus endpoint). Datagram and byte totals are observed from the associations' own
/// counters when read, so the datagram path pays nothing for them; events off that path (errors,
/// notices, refusals) are counted as they happen.
/// </summary>
internal sealed class RelayMetrics
{
    public const string MeterName = "Socks5UdpRelay";

    private static readonly UdpErrorKind[] Kinds = Enum.GetValues<UdpErrorKind>();
    private static readonly string[] NoticeVerbNames =
        [NoticeVerbs.Notices, NoticeVerbs.UdpError, NoticeVerbs.UdpDenied, NoticeVerbs.UdpUnresolved, NoticeVerbs.Closing, NoticeVerbs.DestinationClosed, NoticeVerbs.MapClosed];

    private static readonly string[] ConnectionRefusals = [RefusalReasons.AllowList, RefusalReasons.Limit];
    private static readonly string[] AssociationRefusals = [RefusalReasons.Limit, RefusalReasons.UdpPortRange, RefusalReasons.ClientPort];

    // Events off the datagram path are counted here and read by observable instruments, so every
    // series exists (at 0) from the first scrape on: an alert on a counter that has never fired
    // then sees 0, not "no data".
    private readonly long[] _errors = new long[Kinds.Length];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, StrongBox<long>> _notices = new(
        NoticeVerbNames.Select(v => KeyValuePair.Create(v, new StrongBox<long>())));
    private readonly long[] _refusedConnections = new long[ConnectionRefusals.Length];
    private readonly long[] _refusedAssociations = new long[AssociationRefusals.Length];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Verb, string Outcome), StrongBox<long>> _commands = new();
    private long _authFailures;
    private long _sourceMismatches;
    private readonly AssociationTotals _closed = new();
    private readonly Lock _closedLock = new();
    private Func<IEnumerable<IAssociationStatistics>> _live = () => [];
    private Func<int> _connections = () => 0;
    private Func<IEnumerable<Transport.ILoopStatistics>> _loops = () => [];

    public RelayMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        Meter.CreateObservableCounter("socks5udprelay.udp.errors", () => Tagged(_errors, "kind", Kinds.Select(k => k.ToWireName())), description: "Errors the kernel reported for relayed datagrams, by kind");
        Meter.CreateObservableCounter("socks5udprelay.notices", () => _notices.Select(n => new Measurement<long>(Volatile.Read(ref n.Value.Value), new KeyValuePair<string, object?>("verb", n.Key))), description: "Notice lines queued for clients, by verb");
        Meter.CreateObservableCounter("socks5udprelay.commands", () => _commands.Select(c => new Measurement<long>(
            Volatile.Read(ref c.Value.Value), new KeyValuePair<string, object?>("verb", c.Key.Verb), new KeyValuePair<string, object?>("outcome", c.Key.Outcome))),
            description: "Client commands answered, by verb and outcome (ok, or the failure's reason)");
        Meter.CreateObservableCounter("socks5udprelay.inbound", () => Totals().Inbound(),
            description: "Unsolicited datagrams (from sources the client has no destination socket for), by outcome: relayed, filtered, denied, rate-limited");
        Meter.CreateObservableCounter("socks5udprelay.auth.failures", () => Volatile.Read(ref _authFailures), description: "Failed RFC 1929 authentications");
        Meter.CreateObservableCounter("socks5udprelay.connections.refused", () => Tagged(_refusedConnections, "reason", ConnectionRefusals), description: "Control connections closed on accept, by reason (allow-list, limit)");
        Meter.CreateObservableCounter("socks5udprelay.associations.refused", () => Tagged(_refusedAssociations, "reason", AssociationRefusals), description: "UDP ASSOCIATE requests refused, by reason (limit, udp-port-range, client-port)");
        Meter.CreateObservableCounter("socks5udprelay.udp.source_mismatch", () => Volatile.Read(ref _sourceMismatches),
            description: "Datagrams dropped because they came from another address than their control connection (RFC 1928 section 7): a NAT on the TCP path only");
        Meter.CreateObservableUpDownCounter("socks5udprelay.connections", () => _connections(), description: "Open control connections");
        Meter.CreateObservableUpDownCounter("socks5udprelay.associations", LiveByTransport, description: "Open UDP associations, by transport (udp: UDP ASSOCIATE, tcp: UDP over TCP)");
        Meter.CreateObservableUpDownCounter("socks5udprelay.destinations", () => _live().Sum(a => a.DestinationCount), description: "Open destination sockets");
        Meter.CreateObservableCounter("socks5udprelay.datagrams", () => Totals().Directions(t => t.Datagrams), description: "Datagrams relayed, by direction");
        Meter.CreateObservableCounter("socks5udprelay.payload", () => Totals().Directions(t => t.Bytes), unit: "By", description: "Payload bytes relayed, by direction");
        Meter.CreateObservableCounter("socks5udprelay.loop.datagrams", () => _loops().SelectMany(l => new[]
        {
            new Measurement<long>(l.DatagramsRead, new KeyValuePair<string, object?>("loop", l.Index), new KeyValuePair<string, object?>("op", "read")),
            new Measurement<long>(l.DatagramsSent, new KeyValuePair<string, object?>("loop", l.Index), new KeyValuePair<string, object?>("op", "sent")),
        }), description: "Datagrams each event loop read from and sent on its sockets (both sides of the relay)");
        Meter.CreateObservableCounter("socks5udprelay.loop.offload", () => _loops().SelectMany(l => new[]
        {
            new Measurement<long>(l.CoalescedReads, new KeyValuePair<string, object?>("loop", l.Index), new KeyValuePair<string, object?>("op", "gro-read")),
            new Measurement<long>(l.SegmentedSends, new KeyValuePair<string, object?>("loop", l.Index), new KeyValuePair<string, object?>("op", "gso-sent")),
            new Measurement<long>(l.SegmentationRefusals, new KeyValuePair<string, object?>("loop", l.Index), new KeyValuePair<string, object?>("op", "gso-refused")),
        }), description: "UDP segmentation offload on each event loop: reads that held several datagrams (GRO), segmented sends (GSO), and segmented sends the kernel or the path refused (their datagrams then went one by one)");
        Meter.CreateObservableUpDownCounter("socks5udprelay.loop.associations", () => _loops().Select(l => new Measurement<int>(l.Clients, new KeyValuePair<string, object?>("loop", l.Index))),
            description: "UDP ASSOCIATE associations each event loop carries");
        Meter.CreateObservableCounter("socks5udprelay.datagrams.dropped", () => Totals().Drops(), description: "Datagrams dropped, by reason");
        Meter.CreateObservableCounter("socks5udprelay.notices.dropped", () => Totals().NoticesDropped, description: "Notice lines dropped for a client that did not read them");
    }

    public Meter Meter { get; }

    /// <summary>Where the event loops' own counters come from (the engine, which is built after this).</summary>
    public void ObserveLoops(Func<IEnumerable<Transport.ILoopStatistics>> loops) => _loops = loops;

    /// <summary>Where the live figures come from (the session context, which is built after this).</summary>
    public void Observe(Func<IEnumerable<IAssociationStatistics>> live, Func<int> connections)
    {
        _live = live;
        _connections = connections;
    }

    public void RecordError(UdpErrorKind kind)
    {
        int i = (int)kind;
        Interlocked.Increment(ref _errors[(uint)i < (uint)_errors.Length ? i : 0]);
    }

    public void RecordNotice(string verb) => Interlocked.Increment(ref _notices.GetOrAdd(verb, static _ => new StrongBox<long>()).Value);

    /// <summary>A command answered: <paramref name="verb"/> (set, map, unmap, other) and <paramref name="outcome"/> (ok, or the reason). Both are from fixed vocabularies, so the series stay few.</summary>
    public void RecordCommand(string verb, string outcome) => Interlocked.Increment(ref _commands.GetOrAdd((verb, outcome), static _ => new StrongBox<long>()).Value);

    public void RecordAuthFailure() => Interlocked.Increment(ref _authFailures);

    /// <summary>A connection closed on accept; <paramref name="reason"/> is one of <see cref="RefusalReasons"/>.</summary>
    public void RecordRefusedConnection(string reason) => Interlocked.Increment(ref _refusedConnections[Math.Max(0, Array.IndexOf(ConnectionRefusals, reason))]);

    /// <summary>A UDP ASSOCIATE refused; <paramref name="reason"/> is one of <see cref="RefusalReasons"/>.</summary>
    public void RecordRefusedAssociation(string reason) => Interlocked.Increment(ref _refusedAssociations[Math.Max(0, Array.IndexOf(AssociationRefusals, reason))]);

    /// <summary>A datagram from another address than its association's control connection (README, "Several replicas").</summary>
    public void RecordSourceMismatch() => Interlocked.Increment(ref _sourceMismatches);

    private IEnumerable<Measurement<int>> LiveByTransport()
    {
        int tcp = 0, all = 0;
        foreach (var association in _live())
        {
            all++;
            tcp += association.OverTcp ? 1 : 0;
        }

        return [new(all - tcp, new KeyValuePair<string, object?>("transport", "udp")), new(tcp, new KeyValuePair<string, object?>("transport", "tcp"))];
    }

    private static IEnumerable<Measurement<long>> Tagged(long[] counts, string tag, IEnumerable<string> values)
        => values.Select((v, i) => new Measurement<long>(Volatile.Read(ref counts[i]), new KeyValuePair<string, object?>(tag, v)));

    /// <summary>
    /// Folds a closed association into the totals as it leaves the live set, under one lock with
    /// the readers, so a scrape never counts it twice or not at all and counters never go backwards.
    /// </summary>
    public void AssociationClosed(IAssociationStatistics association, Action removeFromLive)
    {
        lock (_closedLock)
        {
            _closed.Add(association);
            removeFromLive();
        }
    }

    private AssociationTotals Totals()
    {
        var totals = new AssociationTotals();
        lock (_closedLock)
        {
            totals.Add(_closed);
            foreach (var association in _live())
            {
                totals.Add(association);
            }
        }

        return totals;
    }

    private sealed class AssociationTotals
    {
        private readonly long[] _drops = new long[DropReasons.Count];

        public (long Out, long In) Datagrams;
        public (long Out, long In) Bytes;
        public long NoticesDropped;
        public long InboundRelayed;

        public void Add(IAssociationStatistics association)
        {
            var c = association.Counters;
            Datagrams.Out += Volatile.Read(ref c.DatagramsFromClient);
            Datagrams.In += Volatile.Read(ref c.DatagramsToClient);
            Bytes.Out += Volatile.Read(ref c.BytesFromClient);
            Bytes.In += Volatile.Read(ref c.BytesToClient);
            NoticesDropped += association.NoticesDropped;
            InboundRelayed += Volatile.Read(ref c.InboundRelayed);
            for (int i = 0; i < _drops.Length; i++)
            {
                _drops[i] += c.Dropped((DropReason)i);
            }
        }

        public void Add(AssociationTotals other)
        {
            Datagrams.Out += other.Datagrams.Out;
            Datagrams.In += other.Datagrams.In;
            Bytes.Out += other.Bytes.Out;
            Bytes.In += other.Bytes.In;
            NoticesDropped += other.NoticesDropped;
            InboundRelayed += other.InboundRelayed;
            for (int i = 0; i < _drops.Length; i++)
            {
                _drops[i] += other._drops[i];
            }
        }

        public IEnumerable<Measurement<long>> Directions(Func<AssociationTotals, (long Out, long In)> select)
        {
            var (o, i) = select(this);
            yield return new Measurement<long>(o, new KeyValuePair<string, object?>("direction", "client-to-destination"));
            yield return new Measurement<long>(i, new KeyValuePair<string, object?>("direction", "destination-to-client"));
        }

        public IEnumerable<Measurement<long>> Inbound()
        {
            yield return Outcome(InboundRelayed, "relayed");
            yield return Outcome(_drops[(int)DropReason.InboundFiltered], "filtered");
            yield return Outcome(_drops[(int)DropReason.InboundDenied], "denied");
            yield return Outcome(_drops[(int)DropReason.InboundRateLimited], "rate-limited");

            static Measurement<long> Outcome(long value, string outcome) => new(value, new KeyValuePair<string, object?>("outcome", outcome));
        }

        public IEnumerable<Measurement<long>> Drops()
        {
            for (int i = 0; i < _drops.Length; i++)
            {
                yield return new Measurement<long>(_drops[i], new KeyValuePair<string, object?>("reason", ((DropReason)i).WireName()));
            }
        }
    }
}
