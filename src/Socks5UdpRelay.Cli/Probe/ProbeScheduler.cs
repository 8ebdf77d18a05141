using System.Net;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary>
/// When to send which probe, and what silence means: the whole of <c>probe</c>'s pacing and retry
/// policy, with no sockets, so a fake clock can test it.
/// </summary>
/// <remarks>
/// Every host starts fast: up to <see cref="ProbePacing.MaxInFlight"/> ports awaiting an answer,
/// each silent port retried with a growing wait. That is right for loopback and for hosts that
/// do not limit ICMP errors. A host that does (Linux: a burst of 6, then 1/s per source) shows
/// it: a port that was silent answers a retry with an ICMP error. From then on that host is
/// paced to its ICMP budget, and every undecided port of it gets <see cref="ProbePacing.PacedRetries"/>
/// more datagrams within the budget before silence is believed (ICMP-LINUX.md, "Rate limits").
/// </remarks>
internal sealed class ProbeScheduler
{
    private readonly TimeProvider _time;
    private readonly ProbePacing _pacing;
    private readonly int[] _hostOf;
    private readonly Target[] _targets;
    private readonly Host[] _hosts;
    private readonly List<int> _inFlight = [];
    private int _nextHost;
    private long _pausedUntil;
    private int _undecided;

    /// <param name="hostOfTarget">For each target, the index of its host (0 to <paramref name="hostCount"/> - 1); targets are sent in this order.</param>
    public ProbeScheduler(IReadOnlyList<int> hostOfTarget, int hostCount, ProbePacing pacing, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pacing.MaxInFlight, 1);
        _time = time;
        _pacing = pacing;
        _hostOf = [.. hostOfTarget];
        _targets = new Target[_hostOf.Length];
        _hosts = new Host[hostCount];
        for (int h = 0; h < hostCount; h++)
        {
            _hosts[h] = new Host();
        }

        for (int t = 0; t < _hostOf.Length; t++)
        {
            _targets[t].MaxAttempts = pacing.Retries + 1;
            _hosts[_hostOf[t]].Ready.Enqueue(t);
            _hosts[_hostOf[t]].Targets.Add(t);
        }

        _undecided = _targets.Length;
    }

    public int Count => _targets.Length;

    public int DecidedCount => _targets.Length - _undecided;

    public bool IsDone => _undecided == 0;

    /// <summary>Datagrams handed out by <see cref="Next"/>, retries included.</summary>
    public int Sent { get; private set; }

    public ProbeVerdict? VerdictOf(int target) => _targets[target].Verdict;

    public bool IsPaced(int host) => _hosts[host].Paced;

    /// <summary>The next thing to do at the clock's present time.</summary>
    public ProbeStep Next()
    {
        long now = _time.GetTimestamp();
        ExpireSilent(now);
        if (_undecided == 0)
        {
            return ProbeStep.Done;
        }

        long wake = long.MaxValue;
        if (now < _pausedUntil)
        {
            wake = _pausedUntil;
        }
        else if (_inFlight.Count < _pacing.MaxInFlight)
        {
            for (int i = 0; i < _hosts.Length; i++)
            {
                int h = (_nextHost + i) % _hosts.Length;
                var host = _hosts[h];
                while (host.Ready.Count > 0 && _targets[host.Ready.Peek()].Verdict is not null)
                {
                    host.Ready.Dequeue();
                }

                if (host.Ready.Count == 0)
                {
                    continue;
                }

                if (host.Paced && !TryTakeToken(host, now, ref wake))
                {
                    continue;
                }

                int target = host.Ready.Dequeue();
                _nextHost = (h + 1) % _hosts.Length;
                return Start(target, now);
            }
        }

        foreach (int target in _inFlight)
        {
            wake = Math.Min(wake, _targets[target].Deadline);
        }

        if (wake == long.MaxValue)
        {
            throw new InvalidOperationException("A target is neither decided, waiting nor queued.");
        }

        return new ProbeStep(ProbeStepKind.Wait, -1, 0, _time.GetElapsedTime(now, Math.Max(now, wake)));
    }

    /// <summary>Any datagram from the target's host and port: open.</summary>
    public void OnReply(int target)
    {
        Decide(target, ProbeState.Open, "reply", null);
    }

    /// <summary>
    /// An ICMP error for the target, reported in a notice: closed for port-unreachable, filtered
    /// for the rest. An error that answers a retry of a silent port means the host limits them.
    /// </summary>
    public void OnError(int target, bool portUnreachable, string kind, IPAddress? from)
    {
        ref var state = ref _targets[target];
        if (state.Verdict is not null)
        {
            return;
        }

        if (state.Attempts > 1)
        {
            Pace(_hostOf[target]);
        }

        Decide(target, portUnreachable ? ProbeState.Closed : ProbeState.Filtered, kind, from);
    }

    /// <summary>The proxy refused to forward to the target (UDP-DENIED): filtered, for good.</summary>
    public void OnDenied(int target)
    {
        Decide(target, ProbeState.Filtered, "denied", null);
    }

    /// <summary>
    /// The proxy refused a datagram for its own rate limit: it says nothing of the target, so the
    /// datagram does not count as an attempt, and all sending pauses for a while.
    /// </summary>
    public void OnProxyRateLimit(int target)
    {
        long now = _time.GetTimestamp();
        _pausedUntil = Math.Max(_pausedUntil, now + Ticks(_pacing.DeniedPause));
        ref var state = ref _targets[target];
        if (state.Verdict is null && _inFlight.Remove(target))
        {
            state.Attempts--;
            _hosts[_hostOf[target]].Ready.Enqueue(target);
        }
    }

    /// <summary>The host cannot be probed (the proxy could not resolve its name): every port of it ends with an error.</summary>
    public void OnHostError(int host, string reason)
    {
        foreach (int target in _hosts[host].Targets)
        {
            Decide(target, ProbeState.Error, reason, null);
        }
    }

    private ProbeStep Start(int target, long now)
    {
        ref var state = ref _targets[target];
        state.Attempts++;
        state.SentAt = now;
        state.Deadline = now + Ticks(_pacing.Timeout * Math.Pow(_pacing.Backoff, state.Attempts - 1));
        _inFlight.Add(target);
        Sent++;
        return new ProbeStep(ProbeStepKind.Send, target, state.Attempts, TimeSpan.Zero);
    }

    private void ExpireSilent(long now)
    {
        for (int i = _inFlight.Count - 1; i >= 0; i--)
        {
            int target = _inFlight[i];
            ref var state = ref _targets[target];
            if (state.Deadline > now)
            {
                continue;
            }

            _inFlight.RemoveAt(i);
            if (state.Attempts < state.MaxAttempts)
            {
                _hosts[_hostOf[target]].Ready.Enqueue(target);
            }
            else
            {
                SetVerdict(target, new ProbeVerdict(ProbeState.OpenFiltered, "silence", null, null));
            }
        }
    }

    private void Decide(int target, ProbeState verdict, string reason, IPAddress? from)
    {
        ref var state = ref _targets[target];
        if (state.Verdict is not null)
        {
            return;
        }

        TimeSpan? rtt = state.Attempts > 0 && verdict != ProbeState.Error ? _time.GetElapsedTime(state.SentAt) : null;
        _inFlight.Remove(target);
        SetVerdict(target, new ProbeVerdict(verdict, reason, from, rtt));
    }

    private void SetVerdict(int target, ProbeVerdict verdict)
    {
        _targets[target].Verdict = verdict;
        _undecided--;
    }

    private void Pace(int h)
    {
        var host = _hosts[h];
        if (host.Paced)
        {
            return;
        }

        // The host's budget was just spent on the errors that showed the limit: start from empty.
        host.Paced = true;
        host.Tokens = 0;
        host.Stamp = _time.GetTimestamp();
        foreach (int target in host.Targets)
        {
            ref var state = ref _targets[target];
            if (state.Verdict is null)
            {
                state.MaxAttempts = Math.Max(state.MaxAttempts, state.Attempts + _pacing.PacedRetries);
            }
        }
    }

    private bool TryTakeToken(Host host, long now, ref long wake)
    {
        double seconds = _time.GetElapsedTime(host.Stamp, now).TotalSeconds;
        host.Tokens = Math.Min(_pacing.IcmpBurst, host.Tokens + (seconds * _pacing.IcmpPerSecond));
        host.Stamp = now;
        if (host.Tokens >= 1)
        {
            host.Tokens -= 1;
            return true;
        }

        wake = Math.Min(wake, now + Ticks(TimeSpan.FromSeconds((1 - host.Tokens) / _pacing.IcmpPerSecond)));
        return false;
    }

    private long Ticks(TimeSpan span) => (long)Math.Ceiling(span.TotalSeconds * _time.TimestampFrequency);

    private struct Target
    {
        public int Attempts;
        public int MaxAttempts;
        public long SentAt;
        public long Deadline;
        public ProbeVerdict? Verdict;
    }

    private sealed class Host
    {
        public Queue<int> Ready { get; } = new();

        public List<int> Targets { get; } = [];

        public bool Paced { get; set; }

        public double Tokens { get; set; }

        public long Stamp { get; set; }
    }
}
