using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// One UDP ASSOCIATE (RFC 1928 §7): its client-facing socket, the flows to its destinations, the
/// names it resolved, and the notices it owes the client. Everything it does runs on its loop
/// (ARCHITECTURE.md walks one datagram each way); <see cref="End"/> may be called from anywhere,
/// and <see cref="RunAsync"/> returns once every socket it opened is closed.
/// </summary>
internal sealed class UdpAssociation : IDatagramHandler, IAssociationStatistics
{
    private readonly AssociationSettings _settings;
    private readonly IClientSocket _client;
    private readonly IPEndPoint _peer;
    private readonly ClientIngress _ingress;
    private readonly MappingTable _mappings;
    private readonly NameTable _names;
    private readonly NoticeRouter _notices;
    private readonly SourceMismatchReporter _sourceMismatch;
    private readonly DestinationPolicy _policy;
    private readonly OutboundPortRegistry _ports;
    private readonly LocalAddresses _hostAddresses;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _end = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _startedAt;

    // Flows that queued datagrams of the batch being handled: flushed at its end, so runs of one size leave segmented.
    private readonly List<DestinationFlow> _unflushed = [];
    private long _lastClientActivity;
    private int _endReason;
    private bool _closed;
    private bool _foreignLogged;

    public UdpAssociation(
        AssociationSettings settings,
        IClientSocket client,
        IPEndPoint peer,
        ushort fixedPort,
        NoticeRouter notices,
        AssociationCounters counters,
        DestinationPolicy policy,
        OutboundPortRegistry ports,
        CachingResolver resolver,
        ByteBudget nameBytes,
        LocalAddresses hostAddresses,
        RelayMetrics metrics,
        TimeProvider time,
        ILogger logger,
        long id = 0,
        string? user = null)
    {
        Id = id;
        User = user;
        _sourceMismatch = new SourceMismatchReporter(peer, notices, metrics, time, logger);
        _settings = settings;
        _client = client;
        _peer = peer;
        _notices = notices;
        _policy = policy;
        _time = time;
        _logger = logger;
        Counters = counters;
        _startedAt = time.GetTimestamp();
        _lastClientActivity = _startedAt;
        var filter = new ClientSourceFilter(peer.Address, fixedPort);
        _ingress = new ClientIngress(filter, new TokenBucket(settings.DatagramsPerSecond, settings.DatagramBurst, _startedAt, time.TimestampFrequency), settings.MaxDatagramSize);
        // A UDP send that fails is lost as UDP may lose it; a stream's writer drops what a client too slow to read has no room for.
        var unsent = client.Transport == ClientTransport.Tcp ? DropReason.BufferFull : DropReason.SendFailed;
        var replies = new ClientReplies(client, filter, settings.MaxDatagramSize, client.LocalEndPoint.AddressFamily, counters, unsent);
        _ports = ports;
        _hostAddresses = hostAddresses;
        _mappings = new MappingTable(
            (number, now) => new Mapping(
                number,
                new DestinationTable(client.Loop, ports, key => new DestinationFlow(key, number, replies, notices, counters, time), settings.MaxDestinations, logger, peer),
                new MappingInbound(number, settings.Inbound, policy, client.Loop, replies, counters, time),
                now),
            settings.MaxMappings, notices, time);
        Commands = new AssociationCommands(this, _mappings);
        _names = new NameTable(resolver, client.Loop, time, settings.ResolverCacheTime, settings.Names, nameBytes, OnNameResolved, _end.Token);
    }

    public AssociationCounters Counters { get; }

    /// <summary>The association's number in this process, for the flow view and logs.</summary>
    public long Id { get; }

    /// <summary>The user it authenticated as, or null without authentication.</summary>
    public string? User { get; }

    public IPEndPoint RelayEndPoint => _client.LocalEndPoint;

    public bool OverTcp => _client.Transport == ClientTransport.Tcp;

    public int DestinationCount => _mappings.DestinationCount;

    /// <summary>What the client's commands do (<c>SET</c>, <c>MAP</c>, <c>UNMAP</c>); call on <see cref="Loop"/>.</summary>
    public AssociationCommands Commands { get; }

    public long NoticesDropped => _notices.Dropped;

    public AssociationEnd EndReason => (AssociationEnd)Volatile.Read(ref _endReason);

    /// <summary>True once the association is ending or closed: nothing new is opened for it.</summary>
    public bool IsEnding => _closed || EndReason != AssociationEnd.None;

    /// <summary>The loop the association runs on: whatever is posted there after something else runs after it.</summary>
    public IRelayLoop Loop => _client.Loop;

    /// <summary>Asks the association to end; the first reason given wins. Any thread.</summary>
    public void End(AssociationEnd reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, (int)reason, (int)AssociationEnd.None) == (int)AssociationEnd.None)
        {
            try
            {
                _end.Cancel(); // name lookups in flight stop waiting
            }
            finally
            {
                _ended.TrySetResult();
            }
        }
    }

    /// <summary>Relays until <see cref="End"/>, then closes every socket on the loop and logs the association's totals.</summary>
    public async Task RunAsync()
    {
        var sweep = _time.CreateTimer(
            static s => ((UdpAssociation)s!)._client.Loop.Post(static a => ((UdpAssociation)a!).Sweep(), s), this, _settings.SweepPeriod, _settings.SweepPeriod);
        try
        {
            _client.Start(this);
            await _ended.Task.ConfigureAwait(false);
        }
        catch
        {
            End(AssociationEnd.Failed);
            throw;
        }
        finally
        {
            await sweep.DisposeAsync().ConfigureAwait(false);
            try
            {
                await _client.Loop.InvokeAsync(Close).ConfigureAwait(false);
            }
            finally
            {
                LogClosed();
            }
        }
    }

    /// <summary>The association as it stands; call on <see cref="Loop"/> (<see cref="RelayLoopExtensions.InvokeAsync"/>).</summary>
    public AssociationSnapshot Snapshot()
    {
        long now = _time.GetTimestamp();
        var c = Counters;
        var drops = new Dictionary<string, long>();
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            long count = c.Dropped(reason);
            if (count > 0)
            {
                drops[reason.WireName()] = count;
            }
        }

        var idle = _settings.AssociationIdleTimeout;
        TimeSpan? idleLeft = idle > TimeSpan.Zero ? idle - _time.GetElapsedTime(_mappings.LastActivity(_lastClientActivity), now) : null;
        var client = _ingress.Filter.Client;
        var mappings = _mappings.All.Select(m => new MappingSnapshot(
            m.Number,
            m.Destinations.OutboundPort,
            m.Inbound.KnownAddresses,
            m.Destinations.Flows.Select(f => Describe(f, now)).ToList())).ToList();
        return new AssociationSnapshot(
            Id, User, _peer,
            RawSocketAddress.TryRead(client, out var address, out int port) ? new IPEndPoint(address, port) : null,
            _client.LocalEndPoint, OverTcp ? "tcp" : "udp", _settings.Inbound.Filtering.WireName(),
            _time.GetElapsedTime(_startedAt, now), idleLeft is { } left && left < TimeSpan.Zero ? TimeSpan.Zero : idleLeft,
            c.DatagramsFromClient, c.BytesFromClient, c.DatagramsToClient, c.BytesToClient, c.InboundRelayed, drops, mappings);
    }

    private DestinationSnapshot Describe(DestinationFlow flow, long now)
    {
        string address = flow.Key.ToString();
        ErrorSnapshot? error = null;
        if (flow.LastError is { } e)
        {
            string? icmp = e.Origin is ErrorOrigin.Icmp or ErrorOrigin.Icmp6 ? $"{(e.Origin == ErrorOrigin.Icmp ? "icmp" : "icmp6")} {e.IcmpType}/{e.IcmpCode}" : null;
            error = new ErrorSnapshot(e.Kind.ToWireName(), e.ErrnoName, icmp, e.Offender?.ToString(), e.Mtu > 0 ? e.Mtu : null,
                e.ReceivedTtl > 0 ? e.ReceivedTtl : null, _time.GetElapsedTime(flow.LastErrorAt, now), flow.ErrorCount);
        }

        return new DestinationSnapshot(
            flow.AddressedAs is { } name ? $"{name}:{flow.Key.Port}" : address, address, flow.HasSettings && flow.Ttl != 0 ? flow.Ttl : null,
            flow.DatagramsSent, flow.BytesSent, flow.DatagramsReceived, flow.BytesReceived, _time.GetElapsedTime(flow.LastActivity, now), error);
    }

    /// <summary>Writes the first line, <c>NOTICES version=1</c>, naming the commands the client may send.</summary>
    public void AnnounceNotices(OfferedCommands commands) => _notices.Announce(commands);

    /// <summary>Writes <c>CLOSING reason=…</c> when the end is one the client should hear about.</summary>
    public void AnnounceClosing()
    {
        if (EndReason.ClosingReason() is { } reason)
        {
            _notices.Closing(reason);
        }
    }

    /// <summary>
    /// Datagrams from the client side: each judged by the ingress, then routed or refused; what
    /// goes to a destination is queued on its flow and every flow flushed at the batch's end.
    /// </summary>
    public void OnDatagrams(DatagramBatch batch)
    {
        if (_closed || EndReason != AssociationEnd.None)
        {
            return; // ending: nothing more is relayed, as the client was told or will be
        }

        long now = _time.GetTimestamp();
        try
        {
            for (int i = 0; i < batch.Count; i++)
            {
                Admit(batch, i, now);
            }
        }
        finally
        {
            foreach (var flow in _unflushed)
            {
                flow.Flush();
            }

            _unflushed.Clear();
        }
    }

    /// <summary>Errors on the client-facing socket concern one datagram, never the association.</summary>
    public void OnErrors(ReadOnlySpan<ErrorReport> errors)
    {
    }

    private void Admit(DatagramBatch batch, int i, long now)
    {
        var verdict = _ingress.Admit(batch.Payload(i), batch.Source(i), now, out var datagram);
        if (verdict == IngressVerdict.ForeignSource)
        {
            Counters.Drop(DropReason.ForeignSource);
            LogForeignSource(batch.Source(i));
            _sourceMismatch.OnRefused(batch.Payload(i), batch.Source(i));
            return;
        }

        _lastClientActivity = now;
        switch (verdict)
        {
            case IngressVerdict.Accepted:
                Counters.DatagramsFromClient++;
                Counters.BytesFromClient += datagram.Payload.Length;
                Route(datagram, batch, now);
                break;
            case IngressVerdict.Malformed:
                Counters.Drop(DropReason.Malformed);
                Log.MalformedDatagram(_logger, _peer, batch.Payload(i).Length);
                break;
            case IngressVerdict.RateLimited:
                Refuse(datagram.Destination, DropReason.RateLimit, DenyReason.RateLimit);
                break;
            case IngressVerdict.Fragmented:
                Refuse(datagram.Destination, DropReason.Fragmented, DenyReason.Fragmented);
                break;
            case IngressVerdict.TooLarge:
                Refuse(datagram.Destination, DropReason.TooLarge, DenyReason.TooLarge);
                break;
        }
    }

    private void Route(in ClientDatagram datagram, DatagramBatch batch, long now)
    {
        var mapping = _mappings.ForDatagram(datagram.Mapping);
        if (mapping is null)
        {
            Counters.Drop(DropReason.UnknownMapping); // a mapping the client does not hold (never made, or unmapped)
            return;
        }

        mapping.Touch(now);
        var destination = datagram.Destination;
        if (destination.Type != AddressType.DomainName)
        {
            Forward(mapping, DestinationKey.From(destination), null, destination, datagram.Payload, batch, now);
            return;
        }

        switch (_names.Lookup(destination, mapping.Number, datagram.Payload, now, out var key, out string name, out var failure))
        {
            case NameLookup.Resolved:
                Forward(mapping, key, name, destination, datagram.Payload, batch, now);
                break;
            case NameLookup.Failed:
                Counters.Drop(DropReason.Unresolved);
                _notices.Unresolved(name, destination.Port, failure, mapping.Number);
                break;
            case NameLookup.QueueFull:
                Counters.Drop(DropReason.Unresolved);
                break;
            case NameLookup.Busy:
                Counters.Drop(DropReason.ResolverBusy);
                _notices.Unresolved(name, destination.Port, failure, mapping.Number);
                break;
        }
    }

    /// <summary>
    /// To the destination's flow in <paramref name="mapping"/>, opened first when there is none:
    /// queued there when the payload lies in <paramref name="batch"/>, sent at once when it does not
    /// (a datagram that waited for its name).
    /// </summary>
    private void Forward(Mapping mapping, DestinationKey key, string? name, in SocksAddress addressedAs, ReadOnlySpan<byte> payload, DatagramBatch? batch, long now)
    {
        var flow = GetOrOpen(mapping, key, name, addressedAs, forDatagram: true, out _);
        if (flow is null)
        {
            return;
        }

        if (now - flow.InboundNotedAt > _time.TimestampFrequency || flow.InboundNotedAt == 0)
        {
            // Address-dependent filtering admits what comes from an address sent to: noted at most
            // once a second per destination, and before the datagram leaves, since an answer from
            // another port or host (a STUN server's other address) can be back at once.
            flow.InboundNotedAt = now;
            mapping.Inbound.OnSent(key, mapping.Destinations.OutboundPort, now);
        }

        if (batch is null)
        {
            flow.Send(name, payload, now);
        }
        else if (flow.Queue(name, batch, payload, now))
        {
            _unflushed.Add(flow);
        }
    }

    /// <summary>
    /// The flow to <paramref name="key"/> in <paramref name="mapping"/>, opened under the
    /// destination policy when there is none: what a datagram meets, and a <c>SET</c> too. Null
    /// when refused, with <paramref name="refusal"/> saying why; a refused datagram is counted and
    /// noticed, a refused command is answered instead.
    /// </summary>
    internal DestinationFlow? GetOrOpen(Mapping mapping, DestinationKey key, string? name, in SocksAddress addressedAs, bool forDatagram, out Protocol.CommandFailureReason refusal)
    {
        refusal = Protocol.CommandFailureReason.Other;
        var table = mapping.Destinations;
        if (table.TryGet(key, out var flow))
        {
            return flow;
        }

        if (!_policy.IsAllowed(key) && !IsHairpin(key))
        {
            refusal = Protocol.CommandFailureReason.Policy;
            if (forDatagram)
            {
                Counters.Drop(DropReason.Policy);
                _notices.Denied(addressedAs, key, name, DenyReason.Policy, mapping.Number);
            }

            return null;
        }

        var opened = table.Open(key, out int errno);
        if (opened is null)
        {
            refusal = Protocol.CommandFailureReason.Limit;
            if (forDatagram)
            {
                Counters.Drop(DropReason.SendFailed);
            }

            if (errno != 0)
            {
                _notices.Error(key, name, mapping.Number, ErrorReport.FromErrno(errno));
            }

            return null;
        }

        Counters.DestinationsOpened++;
        return opened;
    }

    /// <summary>
    /// To one of the relay host's own addresses and the outbound port of one of its mappings:
    /// hairpinning (RFC 4787 REQ-9), which the kernel then delivers to that mapping as from this
    /// one's address and port (REQ-9a), under that mapping's filtering.
    /// </summary>
    private bool IsHairpin(in DestinationKey key) => _hostAddresses.IsLocal(key) && _ports.IsHeld(key.Port);

    private void OnNameResolved(NameResolution resolution)
    {
        if (_closed)
        {
            return;
        }

        long now = _time.GetTimestamp();
        Span<byte> nameBytes = stackalloc byte[SocksAddressCodec.MaxDomainNameLength];
        int nameLength = Encoding.Latin1.GetBytes(resolution.Name, nameBytes);
        foreach (var (port, number, payload) in resolution.Pending)
        {
            var mapping = _mappings.Get(number);
            if (resolution.Address is null || mapping is null)
            {
                Counters.Drop(resolution.Address is null ? DropReason.Unresolved : DropReason.UnknownMapping);
                continue;
            }

            Forward(mapping, DestinationKey.From(resolution.Address, port), resolution.Name, new SocksAddress(AddressType.DomainName, nameBytes[..nameLength], port), payload, null, now);
        }

        if (resolution.Address is null && resolution.Pending.Count > 0)
        {
            _notices.Unresolved(resolution.Name, resolution.Pending[0].Port, resolution.Failure, resolution.Pending[0].Mapping);
        }
    }

    private void Refuse(in SocksAddress destination, DropReason drop, DenyReason deny)
    {
        Counters.Drop(drop);
        _notices.Denied(destination, default, null, deny);
    }

    private void Sweep()
    {
        if (_closed)
        {
            return;
        }

        long now = _time.GetTimestamp();
        _mappings.SweepIdle(now, _settings.DestinationIdleTimeout);
        var idleLimit = _settings.AssociationIdleTimeout;
        if (idleLimit > TimeSpan.Zero && _time.GetElapsedTime(_mappings.LastActivity(_lastClientActivity), now) >= idleLimit)
        {
            End(AssociationEnd.IdleTimeout);
        }
    }

    /// <summary>The one shutdown path, on the loop: no datagram is handled after it.</summary>
    private void Close()
    {
        _closed = true;
        try
        {
            _client.Dispose();
        }
        finally
        {
            _mappings.CloseAll();
        }
    }

    private void LogForeignSource(ReadOnlySpan<byte> source)
    {
        if (!_foreignLogged || _logger.IsEnabled(LogLevel.Trace))
        {
            _foreignLogged = true;
            var filter = _ingress.Filter;
            Log.ForeignSourceDropped(_logger, _peer, RawSocketAddress.Describe(source), $"{_peer.Address}:{(filter.ExpectedPort == 0 ? "any" : filter.ExpectedPort)}");
        }
    }

    private void LogClosed()
    {
        var c = Counters;
        Log.AssociationClosed(
            _logger, _peer, EndReason.Describe(), _time.GetElapsedTime(_startedAt),
            c.DatagramsFromClient, c.BytesFromClient, c.DatagramsToClient, c.BytesToClient,
            c.DestinationsOpened, _notices.Sent, _notices.Dropped, c.Errors, c.TotalDropped);
    }
}
