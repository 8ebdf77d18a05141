namespace Socks5UdpRelay.Cli.Trace;

/// <summary>
/// Which probe goes out when, which answer belongs to which probe, and when a hop is complete:
/// the whole of <c>trace</c>'s pacing with no sockets, so a fake clock can test it.
/// </summary>
/// <remarks>
/// Probe <c>p</c> has TTL <c>p / queries + 1</c> and, by default, destination port
/// <see cref="FirstPort"/> + <c>p</c>, as traceroute's default UDP method numbers them; answers
/// are matched by that port. With one fixed port, only one probe is ever out, and an answer is
/// the one probe's that is out. The probes of one TTL go out together; the next TTL's only once
/// this one has an answer that is not final (a router's ttl-exceeded) or all of its probes are
/// done. So the destination, which answers every probe that reaches it, gets the probes of one
/// TTL and never those of the TTLs behind it: a Linux host answers a source with about 6 ICMP
/// errors in a burst and then 1 a second, so probes sent past the destination would spend its
/// budget for nothing, and a second trace right after would find it spent (the README,
/// "s5nc trace"). A final answer (the destination's port-unreachable or reply, or an
/// unreachable from a router) ends the trace at its TTL. Silence is <c>*</c>: no retries.
/// </remarks>
internal sealed class TraceSchedule
{
    /// <summary>traceroute's first destination port for UDP probes (<c>-p</c>'s default).</summary>
    public const int FirstPort = 33434;

    /// <summary>Probes out at once at most when each has its own port: traceroute's <c>-N</c> default.</summary>
    public const int MaxInFlight = 16;

    private readonly TimeProvider _time;
    private readonly int _queries;
    private readonly int _maxHops;
    private readonly int? _port;
    private readonly long _waitTicks;
    private readonly Probe[] _probes;
    private int _nextToSend;
    private int _inFlight;
    private int _startedHops = 1;
    private int _finalHop = int.MaxValue;
    private int _nextToReport = 1;

    /// <param name="port">Null: a port per probe; else every probe to this port, one at a time.</param>
    public TraceSchedule(int maxHops, int queries, int? port, TimeSpan wait, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHops, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(queries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(wait, TimeSpan.Zero);
        _maxHops = maxHops;
        _queries = queries;
        _port = port;
        _time = time;
        _waitTicks = (long)(wait.TotalSeconds * time.TimestampFrequency);
        _probes = new Probe[maxHops * queries];
        if (port is null && FirstPort + _probes.Length - 1 > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(maxHops), "Too many probes for a port each above 33434.");
        }
    }

    /// <summary>Probes handed out by <see cref="Next"/>.</summary>
    public int Sent => _nextToSend;

    /// <summary>The TTL of the answer that ended the trace, or null while none has.</summary>
    public int? FinalHop => _finalHop == int.MaxValue ? null : _finalHop;

    /// <summary>The highest TTL whose probes may go out now (for progress).</summary>
    public int CurrentHop => Math.Min(_startedHops, Math.Min(_finalHop, _maxHops));

    public int TtlOf(int probe) => (probe / _queries) + 1;

    public int PortOf(int probe) => _port ?? FirstPort + probe;

    /// <summary>The next thing to do at the clock's present time.</summary>
    public TraceStep Next()
    {
        long now = _time.GetTimestamp();
        long wake = long.MaxValue;
        for (int p = 0; p < _nextToSend; p++)
        {
            ref var probe = ref _probes[p];
            if (probe.State != ProbeState.InFlight)
            {
                continue;
            }

            long deadline = probe.SentAt + _waitTicks;
            if (now >= deadline)
            {
                probe.State = ProbeState.Silent;
                _inFlight--;
            }
            else
            {
                wake = Math.Min(wake, deadline);
            }
        }

        StartHops();
        if (AllComplete())
        {
            return TraceStep.Done;
        }

        if (_nextToSend < _probes.Length && TtlOf(_nextToSend) <= Math.Min(_startedHops, LastHop) && _inFlight < (_port is null ? MaxInFlight : 1))
        {
            int probe = _nextToSend++;
            _probes[probe] = new Probe { State = ProbeState.InFlight, SentAt = now };
            _inFlight++;
            return TraceStep.Send(probe);
        }

        // A hop to report is incomplete and nothing can be sent, so one of its probes is out.
        return wake == long.MaxValue
            ? throw new InvalidOperationException("The trace schedule has nothing to send and nothing to wait for.")
            : TraceStep.WaitFor(_time.GetElapsedTime(now, wake));
    }

    /// <summary>
    /// Restarts a probe's clock just before its datagram leaves, so that neither its round trip
    /// nor its wait counts the SET round trip to the proxy before it.
    /// </summary>
    public void OnSending(int probe) => _probes[probe].SentAt = _time.GetTimestamp();

    /// <summary>The final answers at <see cref="FinalHop"/> (empty while the trace has none).</summary>
    public IReadOnlyList<TraceReply> FinalReplies
    {
        get
        {
            if (FinalHop is not { } hop)
            {
                return [];
            }

            int first = (hop - 1) * _queries;
            return [.. _probes.AsSpan(first, _queries).ToArray().Select(p => p.Reply).OfType<TraceReply>().Where(r => r.Final)];
        }
    }

    /// <summary>
    /// The probe that an answer about destination port <paramref name="port"/> is for, or -1 when
    /// no probe out is waiting for it (a late answer, or one that arrived before the probe was sent).
    /// </summary>
    public int Match(int port, long arrivedAt)
    {
        int probe = -1;
        if (_port is null)
        {
            probe = port - FirstPort;
        }
        else if (port == _port)
        {
            // One probe out at a time: the answer is that one's.
            for (int p = _nextToSend - 1; p >= 0 && probe < 0; p--)
            {
                probe = _probes[p].State == ProbeState.InFlight ? p : -1;
            }
        }

        return probe >= 0 && probe < _nextToSend && _probes[probe].State == ProbeState.InFlight && arrivedAt >= _probes[probe].SentAt ? probe : -1;
    }

    /// <summary>Records the answer for a probe <see cref="Match"/> found.</summary>
    public void OnAnswer(int probe, TraceAnswer answer)
    {
        ref var state = ref _probes[probe];
        if (state.State != ProbeState.InFlight)
        {
            return;
        }

        state.State = ProbeState.Answered;
        var roundTrip = _time.GetElapsedTime(state.SentAt, Math.Max(answer.ArrivedAt, state.SentAt));
        state.Reply = new TraceReply(answer.Kind, answer.From, roundTrip, answer.Flag, answer.Final);
        _inFlight--;
        if (answer.Final && TtlOf(probe) < _finalHop)
        {
            _finalHop = TtlOf(probe);
            Abandon(first: _finalHop * _queries);
        }

        StartHops();
    }

    /// <summary>The next hop in TTL order once all of its probes are answered or silent.</summary>
    public bool TryTakeHop(out TraceHop hop)
    {
        hop = null!;
        if (_nextToReport > LastHop || !IsComplete(_nextToReport))
        {
            return false;
        }

        int first = (_nextToReport - 1) * _queries;
        hop = new TraceHop(_nextToReport, [.. _probes.AsSpan(first, _queries).ToArray().Select(p => p.Reply)]);
        _nextToReport++;
        return true;
    }

    private int LastHop => Math.Min(_finalHop, _maxHops);

    /// <summary>Probes past the final TTL are out for nothing: their answers are no longer awaited.</summary>
    private void Abandon(int first)
    {
        for (int p = first; p < _nextToSend; p++)
        {
            if (_probes[p].State == ProbeState.InFlight)
            {
                _probes[p].State = ProbeState.Abandoned;
                _inFlight--;
            }
        }
    }

    private bool AllComplete()
    {
        for (int hop = _nextToReport; hop <= LastHop; hop++)
        {
            if (!IsComplete(hop))
            {
                return false;
            }
        }

        return true;
    }

    private void StartHops()
    {
        while (_startedHops < LastHop && HopLetsNextStart(_startedHops))
        {
            _startedHops++;
        }
    }

    private bool HopLetsNextStart(int hop)
    {
        int first = (hop - 1) * _queries;
        bool allDone = true;
        for (int p = first; p < first + _queries; p++)
        {
            var probe = _probes[p];
            if (probe.State == ProbeState.Answered && !probe.Reply!.Final)
            {
                return true;
            }

            allDone &= probe.State is ProbeState.Answered or ProbeState.Silent;
        }

        return allDone;
    }

    private bool IsComplete(int hop)
    {
        int first = (hop - 1) * _queries;
        for (int p = first; p < first + _queries; p++)
        {
            if (_probes[p].State is not (ProbeState.Answered or ProbeState.Silent))
            {
                return false;
            }
        }

        return true;
    }

    private enum ProbeState
    {
        NotSent,
        InFlight,
        Answered,
        Silent,
        Abandoned,
    }

    private struct Probe
    {
        public ProbeState State;
        public long SentAt;
        public TraceReply? Reply;
    }
}
