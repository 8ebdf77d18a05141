using System.Net;
using Socks5UdpRelay.Cli.Probe;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary>The probe's pacing and retries on a fake clock, against simulated hosts.</summary>
public sealed class ProbeSchedulerTests
{
    private static readonly ProbePacing Default = new();

    [Fact]
    public void FastStart_SendsUpToMaxInFlightAtOnce_ThenWaits()
    {
        var clock = new ManualTimeProvider();
        var scheduler = new ProbeScheduler(new int[10], 1, Default with { MaxInFlight = 4 }, clock);

        var steps = Enumerable.Range(0, 5).Select(_ => scheduler.Next()).ToList();

        Assert.Equal([0, 1, 2, 3], steps.Take(4).Select(s => s.Target));
        Assert.All(steps.Take(4), s => Assert.Equal(ProbeStepKind.Send, s.Kind));
        Assert.Equal(new ProbeStep(ProbeStepKind.Wait, -1, 0, TimeSpan.FromSeconds(1)), steps[4]);
        scheduler.OnError(0, portUnreachable: true, "port-unreachable", IPAddress.Loopback);
        Assert.Equal(4, scheduler.Next().Target);
    }

    [Fact]
    public void SilentPort_RetriedWithBackoff_ThenOpenFiltered()
    {
        var clock = new ManualTimeProvider();
        var scheduler = new ProbeScheduler([0], 1, Default, clock);
        var sentAt = new List<TimeSpan>();

        while (scheduler.Next() is var step && step.Kind != ProbeStepKind.Done)
        {
            if (step.Kind == ProbeStepKind.Send)
            {
                sentAt.Add(clock.Elapsed);
            }
            else
            {
                clock.Advance(step.Wait);
            }
        }

        // Three datagrams (Retries 2), each waited for twice as long as the one before: 1 s, 2 s, 4 s.
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)], sentAt);
        Assert.Equal(TimeSpan.FromSeconds(7), clock.Elapsed);
        Assert.Equal(new ProbeVerdict(ProbeState.OpenFiltered, "silence", null, null), scheduler.VerdictOf(0));
    }

    [Fact]
    public void ReplyToARetry_IsOpenWithTheRetrysRoundTrip()
    {
        var clock = new ManualTimeProvider();
        var scheduler = new ProbeScheduler([0], 1, Default, clock);
        Assert.Equal(ProbeStepKind.Send, scheduler.Next().Kind);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new ProbeStep(ProbeStepKind.Send, 0, 2, TimeSpan.Zero), scheduler.Next());
        clock.Advance(TimeSpan.FromMilliseconds(30));

        scheduler.OnReply(0);

        Assert.Equal(new ProbeVerdict(ProbeState.Open, "reply", null, TimeSpan.FromMilliseconds(30)), scheduler.VerdictOf(0));
        Assert.Equal(ProbeStepKind.Done, scheduler.Next().Kind);
    }

    [Fact]
    public void ProxyRateLimit_PausesEverythingAndDoesNotCountTheAttempt()
    {
        var clock = new ManualTimeProvider();
        var scheduler = new ProbeScheduler([0, 0], 1, Default with { Retries = 0 }, clock);
        Assert.Equal(0, scheduler.Next().Target);

        scheduler.OnProxyRateLimit(0);

        Assert.Equal(new ProbeStep(ProbeStepKind.Wait, -1, 0, TimeSpan.FromSeconds(1)), scheduler.Next());
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new ProbeStep(ProbeStepKind.Send, 1, 1, TimeSpan.Zero), scheduler.Next());
        // Target 0 goes again as its first attempt, although Retries is 0.
        Assert.Equal(new ProbeStep(ProbeStepKind.Send, 0, 1, TimeSpan.Zero), scheduler.Next());
    }

    [Fact]
    public void HostError_DecidesEveryPortOfThatHostOnly()
    {
        var clock = new ManualTimeProvider();
        var scheduler = new ProbeScheduler([0, 1, 0, 1], 2, Default, clock);

        scheduler.OnHostError(0, "no-such-name");

        Assert.Equal(ProbeState.Error, scheduler.VerdictOf(0)!.State);
        Assert.Equal(ProbeState.Error, scheduler.VerdictOf(2)!.State);
        Assert.Null(scheduler.VerdictOf(1));
        Assert.Equal([1, 3], new[] { scheduler.Next(), scheduler.Next() }.Select(s => s.Target));
    }

    [Fact]
    public void UnlimitedHost_ThousandClosedPorts_TakeNoWaitingAtAll()
    {
        var clock = new ManualTimeProvider();
        var host = new SimulatedHost(clock, closed: _ => true, icmpBurst: int.MaxValue);
        var result = Run(clock, host, ports: 1000, Default);

        Assert.All(result.Verdicts, v => Assert.Equal(ProbeState.Closed, v.State));
        Assert.Equal(TimeSpan.Zero, clock.Elapsed);
        Assert.Equal(1000, result.Sent);
    }

    [Fact]
    public void LinuxRateLimitedHost_TwentyClosedPorts_AllClosedWithinTheIcmpBudget()
    {
        // A remote Linux host: 6 ICMP errors in a burst, then 1 per second, per source.
        var clock = new ManualTimeProvider();
        var host = new SimulatedHost(clock, closed: _ => true, icmpBurst: 6, icmpPerSecond: 1);

        var result = Run(clock, host, ports: 20, Default);

        Assert.All(result.Verdicts, v => Assert.Equal(ProbeState.Closed, v.State));
        Assert.True(result.Scheduler.IsPaced(0));
        // 6 in the burst, the rest at 1/s after the first timeout: about 16 s, far from 20 × 7 s.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(25));
        // Paced: after the first two rounds no more datagrams than ICMP errors the host can send.
        Assert.InRange(result.Sent, 20, 20 + 14 + 14);
    }

    [Fact]
    public void LinuxRateLimitedHost_MixOfClosedOpenAndSilent_EachRight()
    {
        var clock = new ManualTimeProvider();
        var host = new SimulatedHost(clock, closed: p => p % 3 == 0, icmpBurst: 6, icmpPerSecond: 1, open: p => p % 3 == 1);

        var result = Run(clock, host, ports: 30, Default);

        for (int port = 0; port < 30; port++)
        {
            var expected = (port % 3) switch { 0 => ProbeState.Closed, 1 => ProbeState.Open, _ => ProbeState.OpenFiltered };
            Assert.True(expected == result.Verdicts[port].State, $"port {port}: {result.Verdicts[port]}");
        }
    }

    private static (ProbeVerdict[] Verdicts, int Sent, ProbeScheduler Scheduler) Run(ManualTimeProvider clock, SimulatedHost host, int ports, ProbePacing pacing)
    {
        var scheduler = new ProbeScheduler(new int[ports], 1, pacing, clock);
        for (int guard = 0; guard < 100_000; guard++)
        {
            foreach (var (target, error) in host.Answers())
            {
                if (error)
                {
                    scheduler.OnError(target, portUnreachable: true, "port-unreachable", IPAddress.Loopback);
                }
                else
                {
                    scheduler.OnReply(target);
                }
            }

            var step = scheduler.Next();
            switch (step.Kind)
            {
                case ProbeStepKind.Done:
                    return ([.. Enumerable.Range(0, ports).Select(t => scheduler.VerdictOf(t)!)], scheduler.Sent, scheduler);
                case ProbeStepKind.Send:
                    host.Receive(step.Target);
                    break;
                default:
                    clock.Advance(step.Wait);
                    break;
            }
        }

        throw new InvalidOperationException("The schedule did not end.");
    }

    /// <summary>A remote host: replies from open ports, ICMP errors from closed ones within a Linux-style token bucket, silence otherwise.</summary>
    private sealed class SimulatedHost(ManualTimeProvider clock, Func<int, bool> closed, int icmpBurst, double icmpPerSecond = 1, Func<int, bool>? open = null)
    {
        private readonly List<(int Target, bool Error)> _pending = [];
        private double _tokens = icmpBurst;
        private TimeSpan _stamp;

        public void Receive(int port)
        {
            if (open?.Invoke(port) == true)
            {
                _pending.Add((port, false));
                return;
            }

            if (!closed(port))
            {
                return;
            }

            _tokens = Math.Min(icmpBurst, _tokens + ((clock.Elapsed - _stamp).TotalSeconds * icmpPerSecond));
            _stamp = clock.Elapsed;
            if (_tokens >= 1)
            {
                _tokens--;
                _pending.Add((port, true));
            }
        }

        public IEnumerable<(int Target, bool Error)> Answers()
        {
            var answers = _pending.ToArray();
            _pending.Clear();
            return answers;
        }
    }
}
