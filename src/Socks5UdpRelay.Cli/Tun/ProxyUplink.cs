using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Gateway.Notices;
using Socks5UdpRelay.Gateway.Packets;
using Socks5UdpRelay.Gateway.Plane;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>
/// The SOCKS side of <c>s5nc tun</c> (the README's "Transparent gateway"): each program socket's
/// flow gets a mapping of its own from the <see cref="MappingPool"/>, so every destination sees that
/// socket's one external port; its datagrams go out in the program's order, a datagram with a TTL
/// its program chose only after <c>SET</c> put that TTL in force; replies and notices come back
/// through the <see cref="IDownlink"/> as IP packets and ICMP errors. A flow idle for
/// <see cref="UplinkSettings.Idle"/> (or <see cref="UplinkSettings.FinishedIdle"/> once it looks
/// finished) releases its mapping.
/// </summary>
/// <remarks>
/// The steady path allocates nothing: a datagram of a flow that holds a mapping and needs no
/// <c>SET</c> is sent on the gateway's reader thread from one buffer; replies are written into the
/// device by the association's receive thread from its buffer. Only a flow that waits (for its
/// mapping or a <c>SET</c>) queues, in pooled buffers, drained by one task at a time.
/// </remarks>
internal sealed class ProxyUplink : IUplink, IAssociationEvents, IAsyncDisposable
{
    private readonly IDownlink _downlink;
    private readonly Socks5ProxyOptions _proxy;
    private readonly UplinkSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Dictionary<FlowId, UplinkFlow> _flows = [];
    private readonly Lock _flowsGate = new();
    private readonly byte[] _sendBuffer = GC.AllocateUninitializedArray<byte>(UplinkAssociation.PayloadOffset + ushort.MaxValue);
    private readonly HashSet<Task> _pumps = [];
    private readonly HashSet<UplinkAssociation> _warnedMismatch = [];
    private MappingPool? _pool;
    private ITimer? _sweep;
    private int _nextAssociation;
    private bool _capped;
    private long _refusedAtCap;
    private int _disposed;

    public ProxyUplink(IDownlink downlink, Socks5ProxyOptions proxy, UplinkSettings settings, ILogger logger, TimeProvider time)
    {
        _downlink = downlink;
        _proxy = proxy;
        _settings = settings;
        _logger = logger;
        _time = time;
    }

    public UplinkCounters Counters { get; } = new();

    /// <summary>True once the proxy greeted with <c>NOTICES</c>: errors reach programs.</summary>
    public bool HasNotices { get; private set; }

    /// <summary>True when the proxy offers <c>MAP</c>: mappings on shared associations.</summary>
    public bool UsesMap { get; private set; }

    /// <summary>True when the proxy offers <c>SET</c>: program-chosen TTLs are kept.</summary>
    public bool CanSet { get; private set; }

    /// <summary>Program sockets holding a flow here now.</summary>
    public int FlowCount
    {
        get
        {
            lock (_flowsGate)
            {
                return _flows.Count;
            }
        }
    }

    /// <summary>Associations open now.</summary>
    public int AssociationCount => _pool?.AssociationCount ?? 0;

    /// <summary>The mapping a flow holds now, if any (for tests and logs).</summary>
    internal UplinkMapping? MappingOf(FlowId id)
    {
        lock (_flowsGate)
        {
            return _flows.GetValueOrDefault(id)?.Mapping;
        }
    }

    /// <summary>One line for the start message: how flows reach the proxy.</summary>
    public string Mode => (_settings.Transport == Socks5UdpTransport.Tcp ? "UDP over TCP; " : string.Empty) + (UsesMap, HasNotices, CanSet) switch
    {
        (true, _, true) => "a mapping per program socket on shared associations; notices, SET",
        (true, _, false) => "a mapping per program socket on shared associations; notices, no SET",
        (false, true, _) => "an association per program socket; notices" + (CanSet ? ", SET" : ", no SET"),
        _ => "an association per program socket; no notices",
    };

    /// <summary>
    /// Opens the first association (which proves the proxy reachable and the credentials good), reads
    /// what it offers, and starts the pool.
    /// </summary>
    /// <exception cref="Socks5Exception">The proxy could not be reached or refused.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var first = await UplinkAssociation.OpenAsync(Interlocked.Increment(ref _nextAssociation), _proxy, _settings, this, cancellationToken).ConfigureAwait(false);
        Counters.AssociationOpened();
        Notice? greeting;
        try
        {
            greeting = await first.Greeting.WaitAsync(_settings.GreetingWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            greeting = null;
        }

        var commands = greeting?.Commands ?? OfferedCommands.None;
        HasNotices = greeting is not null;
        UsesMap = (commands & OfferedCommands.Map) != 0;
        CanSet = (commands & OfferedCommands.Set) != 0;
        if (!HasNotices)
        {
            TunLog.NoNotices(_logger);
        }
        else if (!UsesMap)
        {
            TunLog.NoMap(_logger, OfferedCommandsFormat.ToWireValue(commands));
        }

        if (HasNotices && !CanSet)
        {
            TunLog.NoSet(_logger);
        }

        _pool = new MappingPool(OpenAssociationAsync, UsesMap, UsesMap ? _settings.ReadyMappings : _settings.ReadyAssociations, _settings.MaxFlows, Counters, _logger, _time);
        _pool.Start(first);
        _sweep = _time.CreateTimer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <inheritdoc/>
    public void Send(FlowId flow, in UdpPacket packet)
    {
        byte ttl = packet.Ttl < _downlink.DefaultTtl(packet.IsIPv6) ? packet.Ttl : (byte)0;
        Send(flow, FlowKey.From(packet.DestinationAddress, packet.DestinationPort), packet.Payload, ttl);
    }

    /// <summary>
    /// A program's datagram to <paramref name="destination"/>, with the TTL it chose (0: the
    /// default). Called on one thread at a time (the gateway's reader); never blocks on the proxy.
    /// </summary>
    public void Send(FlowId id, in FlowKey destination, ReadOnlySpan<byte> payload, byte ttl)
    {
        var pool = _pool ?? throw new InvalidOperationException("Not started.");
        long now = _time.GetTimestamp();
        if (FindOrOpen(id, now) is not { } flow)
        {
            return;
        }

        bool chosen = ttl != 0;
        if (!CanSet)
        {
            ttl = 0;
        }

        flow.NoteSent(destination.Port, chosen, now);
        UplinkMapping? direct = null;
        bool startPump = false;
        lock (flow.Gate)
        {
            if (flow.Closed || (flow.Mapping is null && !flow.Pumping && now < flow.RetryAfter))
            {
                Counters.MappingMissing(1);
                return;
            }

            if (flow.Mapping is null && !flow.Pumping && pool.TryTake(out var mapping))
            {
                flow.Attach(mapping);
                TunLog.FlowMapped(_logger, flow.ToString(), mapping.ToString(), mapping.OutboundPort);
            }

            if (flow.Mapping is { } current && !flow.Pumping && flow.TtlInForce(destination) == ttl)
            {
                direct = current;
            }
            else if (!flow.TryEnqueue(destination, payload, ttl))
            {
                Counters.QueueOverflow();
                return;
            }
            else if (!flow.Pumping)
            {
                flow.Pumping = true;
                startPump = true;
            }
        }

        if (direct is not null)
        {
            payload.CopyTo(_sendBuffer.AsSpan(UplinkAssociation.PayloadOffset));
            Counters.Datagram(direct.Association.Send(direct.Number, destination, _sendBuffer, UplinkAssociation.PayloadOffset, payload.Length));
        }
        else if (startPump)
        {
            var pump = PumpAsync(flow, pool);
            lock (_pumps)
            {
                if (!pump.IsCompleted)
                {
                    _pumps.Add(pump);
                    _ = pump.ContinueWith(static (t, pumps) => Forget((HashSet<Task>)pumps!, t), _pumps, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
        }
    }

    /// <inheritdoc/>
    public void FlowClosed(FlowId flow)
    {
        UplinkFlow? known;
        lock (_flowsGate)
        {
            known = _flows.GetValueOrDefault(flow);
        }

        if (known is not null)
        {
            Close(known, "idle");
        }
    }

    /// <inheritdoc/>
    public void OnReply(UplinkMapping mapping, ReadOnlySpan<byte> sourceAddress, ushort sourcePort, ReadOnlySpan<byte> payload)
    {
        if (mapping.Flow is not { } flow)
        {
            Counters.Reply(false);
            return;
        }

        flow.NoteAnswer(_time.GetTimestamp());
        Counters.Reply(_downlink.WriteUdpReply(flow.Id, sourceAddress, sourcePort, payload));
    }

    /// <inheritdoc/>
    public void OnNotice(UplinkAssociation association, Notice notice)
    {
        TunLog.NoticeReceived(_logger, association.ToString(), notice.Line);
        switch (notice.Verb)
        {
            case NoticeVerbs.UdpError or NoticeVerbs.UdpDenied or NoticeVerbs.UdpUnresolved:
                if (notice.Verb == NoticeVerbs.UdpDenied && notice.Reason == DeniedReasons.SourceMismatch)
                {
                    WarnMismatchOnce(association, notice);
                }

                if (FlowOf(association, notice.Mapping) is { } flow && _downlink.WriteNotice(flow.Id, notice) == NoticeMappingResult.Injected)
                {
                    flow.NoteAnswer(_time.GetTimestamp());
                    Counters.ErrorInjected();
                }

                break;
            case NoticeVerbs.DestinationClosed:
                ForgetTtl(association, notice);
                break;
            case NoticeVerbs.MapClosed:
                if (_pool?.OnMappingClosed(association, notice.Mapping) is { } lost)
                {
                    Detach(lost);
                }

                break;
        }
    }

    /// <inheritdoc/>
    public void OnClosed(UplinkAssociation association, string reason)
    {
        var lost = _pool?.OnAssociationClosed(association) ?? [];
        foreach (var mapping in lost)
        {
            Detach(mapping);
        }

        if (UsesMap || lost.Count > 0)
        {
            TunLog.AssociationLost(_logger, association.ToString(), reason, lost.Count);
        }
    }

    /// <summary>Closes every flow (dropping what waits) and every association; releasing each mapping is left to the end of its association.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_sweep is not null)
        {
            await _sweep.DisposeAsync().ConfigureAwait(false);
        }

        UplinkFlow[] flows;
        lock (_flowsGate)
        {
            flows = [.. _flows.Values];
            _flows.Clear();
        }

        foreach (var flow in flows)
        {
            lock (flow.Gate)
            {
                flow.Close(out _)?.MarkDead();
            }
        }

        if (_pool is not null)
        {
            await _pool.DisposeAsync().ConfigureAwait(false);
        }

        Task[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps];
        }

        await Task.WhenAll(pumps).ConfigureAwait(false);
    }

    private static void Forget(HashSet<Task> pumps, Task pump)
    {
        lock (pumps)
        {
            pumps.Remove(pump);
        }
    }

    private UplinkFlow? FindOrOpen(FlowId id, long now)
    {
        UplinkFlow? reclaimed = null;
        UplinkFlow flow;
        lock (_flowsGate)
        {
            if (_flows.TryGetValue(id, out var known))
            {
                return known;
            }

            if (Volatile.Read(ref _disposed) != 0)
            {
                return null;
            }

            if (_flows.Count >= _settings.MaxFlows)
            {
                // A finished exchange (RFC 4787 REQ-5a) gives its mapping up at once rather than after
                // FinishedIdle: a resolver asking from a new port per query would otherwise stall
                // at the cap for that long. Only when none has finished is the new socket refused.
                reclaimed = LeastRecentFinished();
                if (reclaimed is null)
                {
                    Counters.FlowRefused();
                    _refusedAtCap++;
                    if (!_capped)
                    {
                        _capped = true;
                        TunLog.CapReached(_logger, _settings.MaxFlows);
                    }

                    return null;
                }

                _flows.Remove(reclaimed.Id);
            }

            flow = new UplinkFlow(id, now);
            _flows.Add(id, flow);
            Counters.FlowOpened();
        }

        if (reclaimed is not null)
        {
            Release(reclaimed, "reclaimed at --max-flows");
        }

        return flow;
    }

    /// <summary>The finished flow idle the longest, or null (under <see cref="_flowsGate"/>; a scan, only ever at the cap).</summary>
    private UplinkFlow? LeastRecentFinished()
    {
        UplinkFlow? oldest = null;
        foreach (var candidate in _flows.Values)
        {
            if (candidate.LooksFinished && (oldest is null || candidate.LastActivity < oldest.LastActivity))
            {
                oldest = candidate;
            }
        }

        return oldest;
    }

    /// <summary>
    /// Sends a flow's queued datagrams in order: first a mapping when it has none, then for each
    /// datagram a <c>SET</c> when its TTL differs from the one in force for its destination.
    /// </summary>
    private async Task PumpAsync(UplinkFlow flow, MappingPool pool)
    {
        QueuedDatagram? current = null;
        try
        {
            while (true)
            {
                UplinkMapping? mapping;
                bool needsSet;
                lock (flow.Gate)
                {
                    if (current is null)
                    {
                        if (flow.Closed || !flow.TryDequeue(out var next))
                        {
                            flow.Pumping = false;
                            return;
                        }

                        current = next;
                    }

                    mapping = flow.Mapping;
                    needsSet = mapping is not null && flow.TtlInForce(current.Value.Destination) != current.Value.Ttl;
                }

                var datagram = current.Value;
                if (mapping is null)
                {
                    if (!await AcquireAsync(flow, pool).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                if (needsSet && !await SetTtlAsync(flow, mapping, datagram).ConfigureAwait(false))
                {
                    continue; // its association ended: a new mapping, and the SET again
                }

                Counters.Datagram(mapping.Association.Send(mapping.Number, datagram.Destination, datagram.Buffer, QueuedDatagram.PayloadOffset, datagram.Length));
                datagram.Return();
                current = null;
            }
        }
        catch (Exception e)
        {
            TunLog.PumpFailed(_logger, flow.ToString(), e);
            lock (flow.Gate)
            {
                Counters.MappingMissing(flow.DropQueued());
                flow.Pumping = false;
            }
        }
        finally
        {
            current?.Return();
        }
    }

    /// <summary>Waits for a mapping for the flow; false (its queue dropped, the pump ended) when none comes.</summary>
    private async Task<bool> AcquireAsync(UplinkFlow flow, MappingPool pool)
    {
        var mapping = await pool.TakeAsync(_settings.MappingWait).ConfigureAwait(false);
        lock (flow.Gate)
        {
            if (mapping is not null && !flow.Closed)
            {
                flow.Attach(mapping);
                TunLog.FlowMapped(_logger, flow.ToString(), mapping.ToString(), mapping.OutboundPort);
                return true;
            }

            if (mapping is null)
            {
                int dropped = flow.DropQueued() + 1;
                Counters.MappingMissing(dropped);
                flow.RetryAfter = _time.GetTimestamp() + (long)(_settings.RetryDelay.TotalSeconds * _time.TimestampFrequency);
                TunLog.NoMapping(_logger, flow.ToString(), _settings.MappingWait.TotalSeconds, dropped);
            }

            flow.Pumping = false;
        }

        if (mapping is not null)
        {
            pool.Return(mapping); // the flow ended while it waited: the mapping was never used
        }

        return false;
    }

    /// <summary>SET for the datagram's destination and TTL; false when its association ended (the flow then needs a new mapping).</summary>
    private async Task<bool> SetTtlAsync(UplinkFlow flow, UplinkMapping mapping, QueuedDatagram datagram)
    {
        try
        {
            await mapping.Association.SetTtlAsync(mapping.Number, datagram.Destination, datagram.Ttl).ConfigureAwait(false);
            Counters.Set(true);
            lock (flow.Gate)
            {
                if (ReferenceEquals(flow.Mapping, mapping))
                {
                    flow.SetTtlInForce(datagram.Destination, datagram.Ttl);
                }
            }

            return true;
        }
        catch (Socks5CommandException e)
        {
            // Refused (policy, limit, rate-limit): the datagram goes as the proxy sends it, and the
            // next one to that destination asks again.
            Counters.Set(false);
            TunLog.SetFailed(_logger, flow.ToString(), datagram.Ttl, Endpoint(datagram.Destination), e.Answer.Line);
            return true;
        }
        catch (Exception e) when (e is Socks5Exception or ObjectDisposedException)
        {
            lock (flow.Gate)
            {
                flow.Detach(mapping);
            }

            return false;
        }
    }

    private void Close(UplinkFlow flow, string reason)
    {
        lock (_flowsGate)
        {
            if (!_flows.TryGetValue(flow.Id, out var known) || !ReferenceEquals(known, flow))
            {
                return;
            }

            _flows.Remove(flow.Id);
        }

        Release(flow, reason);
    }

    /// <summary>A flow no longer in the table closes and gives its mapping back to the pool.</summary>
    private void Release(UplinkFlow flow, string reason)
    {
        UplinkMapping? mapping;
        int dropped;
        lock (flow.Gate)
        {
            mapping = flow.Close(out dropped);
        }

        Counters.FlowClosed();
        Counters.MappingMissing(dropped);
        if (mapping is not null)
        {
            TunLog.FlowReleased(_logger, flow.ToString(), mapping.ToString(), reason);
            _pool?.Release(mapping);
        }
    }

    /// <summary>The proxy closed a mapping a flow held: the flow takes a new one with its next datagram.</summary>
    private static void Detach(UplinkMapping mapping)
    {
        if (mapping.Flow is { } flow)
        {
            lock (flow.Gate)
            {
                flow.Detach(mapping);
            }

            mapping.Flow = null;
        }
    }

    /// <summary>Once a second: flows idle past their timeout release their mappings, and the pool tidies up.</summary>
    internal void Sweep()
    {
        long now = _time.GetTimestamp();
        List<(UplinkFlow Flow, string Reason)>? expired = null;
        lock (_flowsGate)
        {
            foreach (var flow in _flows.Values)
            {
                var idle = _time.GetElapsedTime(flow.LastActivity, now);
                bool finished = flow.LooksFinished;
                if (idle >= (finished ? _settings.FinishedIdle : _settings.Idle))
                {
                    (expired ??= []).Add((flow, finished ? "finished" : "idle"));
                }
            }

            if (_capped && _flows.Count - (expired?.Count ?? 0) < _settings.MaxFlows)
            {
                _capped = false;
                TunLog.CapLeft(_logger, _refusedAtCap);
                _refusedAtCap = 0;
            }
        }

        foreach (var (flow, reason) in expired ?? [])
        {
            Close(flow, reason);
        }

        _pool?.Sweep();
    }

    private UplinkFlow? FlowOf(UplinkAssociation association, ushort number) => association.Find(number)?.Flow;

    /// <summary><c>DST-CLOSED</c>: the proxy closed a destination socket and its settings; the TTL there is the default again.</summary>
    private void ForgetTtl(UplinkAssociation association, Notice notice)
    {
        var mapping = association.Find(notice.Mapping);
        if (mapping?.Flow is not { } flow
            || !NoticeFormat.TryParseEndpoint(notice[NoticeKeys.Address] ?? notice.Destination ?? string.Empty, out _, out var address, out ushort port)
            || address is null)
        {
            return;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        lock (flow.Gate)
        {
            if (ReferenceEquals(flow.Mapping, mapping))
            {
                flow.SetTtlInForce(FlowKey.From(bytes[..length], port), 0);
            }
        }
    }

    private void WarnMismatchOnce(UplinkAssociation association, Notice notice)
    {
        lock (_warnedMismatch)
        {
            if (!_warnedMismatch.Add(association))
            {
                return;
            }
        }

        TunLog.SourceMismatch(_logger, association.ToString(), notice.Line);
    }

    private async Task<UplinkAssociation> OpenAssociationAsync()
    {
        var association = await UplinkAssociation.OpenAsync(Interlocked.Increment(ref _nextAssociation), _proxy, _settings, this, CancellationToken.None).ConfigureAwait(false);
        Counters.AssociationOpened();
        return association;
    }

    private static string Endpoint(in FlowKey destination)
    {
        Span<byte> bytes = stackalloc byte[16];
        int length = destination.WriteAddress(bytes);
        return NoticeFormat.FormatEndpoint(new System.Net.IPAddress(bytes[..length]), destination.Port);
    }
}
