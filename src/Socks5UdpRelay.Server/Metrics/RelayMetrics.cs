using System.Diagnostics.Metrics;
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

    private static readonly KeyValuePair<string, object?>[][] KindTags = Enum.GetValues<UdpErrorKind>()
        .Select(k => new[] { new KeyValuePair<string, object?>("kind", k.ToWireName()) }).ToArray();

    private readonly Counter<long> _errors;
    private readonly Counter<long> _notices;
    private readonly Counter<long> _authFailures;
    private readonly Counter<long> _refusedConnections;
    private readonly Counter<long> _refusedAssociations;
    private readonly AssociationTotals _closed = new();
    private readonly Lock _closedLock = new();
    private Func<IEnumerable<IAssociationStatistics>> _live = () => [];
    private Func<int> _connections = () => 0;

    public RelayMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        _errors = Meter.CreateCounter<long>("socks5udprelay.udp.errors", description: "Errors the kernel reported for relayed datagrams, by kind");
        _notices = Meter.CreateCounter<long>("socks5udprelay.notices", description: "Notice lines queued for clients, by verb");
        _authFailures = Meter.CreateCounter<long>("socks5udprelay.auth.failures", description: "Failed RFC 1929 authentications");
        _refusedConnections = Meter.CreateCounter<long>("socks5udprelay.connections.refused", description: "Control connections closed on accept by the allow-list or a limit");
        _refusedAssociations = Meter.CreateCounter<long>("socks5udprelay.associations.refused", description: "UDP ASSOCIATE requests refused by a limit");
        Meter.CreateObservableUpDownCounter("socks5udprelay.connections", () => _connections(), description: "Open control connections");
        Meter.CreateObservableUpDownCounter("socks5udprelay.associations", () => _live().Count(), description: "Open UDP associations");
        Meter.CreateObservableUpDownCounter("socks5udprelay.destinations", () => _live().Sum(a => a.DestinationCount), description: "Open destination sockets");
        Meter.CreateObservableCounter("socks5udprelay.datagrams", () => Totals().Directions(t => t.Datagrams), description: "Datagrams relayed, by direction");
        Meter.CreateObservableCounter("socks5udprelay.payload", () => Totals().Directions(t => t.Bytes), unit: "By", description: "Payload bytes relayed, by direction");
        Meter.CreateObservableCounter("socks5udprelay.datagrams.dropped", () => Totals().Drops(), description: "Datagrams dropped, by reason");
        Meter.CreateObservableCounter("socks5udprelay.notices.dropped", () => Totals().NoticesDropped, description: "Notice lines dropped for a client that did not read them");
    }

    public Meter Meter { get; }

    /// <summary>Where the live figures come from (the session context, which is built after this).</summary>
    public void Observe(Func<IEnumerable<IAssociationStatistics>> live, Func<int> connections)
    {
        _live = live;
        _connections = connections;
    }

    public void RecordError(UdpErrorKind kind)
    {
        int i = (int)kind;
        _errors.Add(1, (uint)i < (uint)KindTags.Length ? KindTags[i] : KindTags[0]);
    }

    public void RecordNotice(string verb) => _notices.Add(1, new KeyValuePair<string, object?>("verb", verb));

    public void RecordAuthFailure() => _authFailures.Add(1);

    public void RecordRefusedConnection() => _refusedConnections.Add(1);

    public void RecordRefusedAssociation() => _refusedAssociations.Add(1);

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

        public void Add(IAssociationStatistics association)
        {
            var c = association.Counters;
            Datagrams.Out += Volatile.Read(ref c.DatagramsFromClient);
            Datagrams.In += Volatile.Read(ref c.DatagramsToClient);
            Bytes.Out += Volatile.Read(ref c.BytesFromClient);
            Bytes.In += Volatile.Read(ref c.BytesToClient);
            NoticesDropped += association.NoticesDropped;
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

        public IEnumerable<Measurement<long>> Drops()
        {
            for (int i = 0; i < _drops.Length; i++)
            {
                yield return new Measurement<long>(_drops[i], new KeyValuePair<string, object?>("reason", ((DropReason)i).WireName()));
            }
        }
    }
}
