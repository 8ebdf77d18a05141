using System.Net;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Cli.Trace;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Trace;

/// <summary>trace's pacing and matching on a fake clock, against simulated paths.</summary>
public sealed class TraceScheduleTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private static readonly IPAddress Router1 = IPAddress.Parse("10.0.1.1");
    private static readonly IPAddress Router2 = IPAddress.Parse("10.0.2.1");
    private static readonly IPAddress Destination = IPAddress.Parse("10.0.3.7");

    [Fact]
    public void DefaultPorts_OneTtlsProbesGoTogether_EachToItsOwnPortFrom33434()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(30, 3, port: null, Wait, clock);

        var steps = Enumerable.Range(0, 4).Select(_ => schedule.Next()).ToList();

        Assert.Equal([TraceStep.Send(0), TraceStep.Send(1), TraceStep.Send(2), TraceStep.WaitFor(Wait)], steps);
        Assert.Equal([33434, 33435, 33436], new[] { 0, 1, 2 }.Select(schedule.PortOf));
        Assert.Equal([1, 1, 1, 2], new[] { 0, 1, 2, 3 }.Select(schedule.TtlOf));
        Assert.Equal(33434 + 89, schedule.PortOf(89));
    }

    [Fact]
    public void NextTtl_StartsOnTheFirstRouterAnswer_WhileTheOtherProbesOfThisTtlStillWait()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(30, 3, port: null, Wait, clock);
        SendAll(schedule);
        clock.Advance(TimeSpan.FromMilliseconds(2));

        Answer(schedule, clock, port: 33435, Exceeded(Router1));

        Assert.Equal(TraceStep.Send(3), schedule.Next());
        Assert.False(schedule.TryTakeHop(out _));
    }

    [Fact]
    public void SilentTtl_WaitsItsFullWait_ThenStarsAndTheNextTtl()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(30, 2, port: null, Wait, clock);
        SendAll(schedule);

        clock.Advance(Wait - TimeSpan.FromTicks(1));
        Assert.Equal(TraceStep.WaitFor(TimeSpan.FromTicks(1)), schedule.Next());
        clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(TraceStep.Send(2), schedule.Next());

        Assert.True(schedule.TryTakeHop(out var hop));
        Assert.Equal(1, hop.Ttl);
        Assert.Equal([null, null], hop.Probes);
        Assert.Equal("silence", hop.Kind);
        Assert.Null(hop.From);
    }

    [Fact]
    public void RoundTrip_IsFromTheSendToTheArrival_NotFromTheSetBeforeIt()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(1, 1, port: null, Wait, clock);
        Assert.Equal(TraceStep.Send(0), schedule.Next());
        clock.Advance(TimeSpan.FromMilliseconds(40)); // the SET round trip
        schedule.OnSending(0);
        clock.Advance(TimeSpan.FromMilliseconds(3));

        Answer(schedule, clock, port: 33434, Unreachable(Destination));

        Assert.True(schedule.TryTakeHop(out var hop));
        Assert.Equal(TimeSpan.FromMilliseconds(3), hop.Probes[0]!.RoundTrip);
        Assert.Equal(TraceStep.Done, schedule.Next());
    }

    [Fact]
    public void PathOfThreeHops_DestinationGetsOnlyTheProbesOfItsOwnTtl()
    {
        // Its ICMP budget (a Linux host: 6 in a burst, then 1/s) is spent on nothing else, so a
        // second trace right after still finds it.
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(30, 3, port: null, Wait, clock);
        var hops = Simulate(schedule, clock, ttl => ttl switch
        {
            1 => Exceeded(Router1),
            2 => Exceeded(Router2),
            _ => Unreachable(Destination),
        });

        Assert.Equal(9, schedule.Sent);
        Assert.Equal([Router1, Router2, Destination], hops.Select(h => h.From));
        Assert.Equal(["ttl-exceeded", "ttl-exceeded", "port-unreachable"], hops.Select(h => h.Kind));
        Assert.Equal(3, schedule.FinalHop);
        Assert.All(schedule.FinalReplies, r => Assert.Equal(Destination, r.From));
    }

    [Fact]
    public void DestinationNeverAnswers_TracesUpToMaxHops()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(5, 3, port: null, Wait, clock);

        var hops = Simulate(schedule, clock, ttl => ttl == 1 ? Exceeded(Router1) : null);

        Assert.Equal([1, 2, 3, 4, 5], hops.Select(h => h.Ttl));
        Assert.Equal(15, schedule.Sent);
        Assert.Null(schedule.FinalHop);
        Assert.Empty(schedule.FinalReplies);
        // Four silent TTLs, one after another: each waited for in full.
        Assert.Equal(4 * Wait, clock.Elapsed - TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public void FinalAnswer_EndsTheTraceAtItsTtl_AndProbesBeyondItAreNotAwaited()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(30, 3, port: null, Wait, clock);
        SendAll(schedule);
        Answer(schedule, clock, port: 33434, Exceeded(Router1));
        SendAll(schedule); // TTL 2: probes 3, 4, 5

        // A router on TTL 1 then says host unreachable: the trace ends at TTL 1 (traceroute's !H).
        Answer(schedule, clock, port: 33435, Unreachable(Router1, "!H"));
        Answer(schedule, clock, port: 33436, Exceeded(Router1));

        Assert.True(schedule.TryTakeHop(out var hop));
        Assert.True(hop.IsFinal);
        Assert.Equal("host-unreachable", hop.Kind);
        Assert.False(schedule.TryTakeHop(out _));
        Assert.Equal(TraceStep.Done, schedule.Next());
        Assert.Equal(-1, schedule.Match(33437, clock.GetTimestamp()));
    }

    [Fact]
    public void OnePort_OneProbeAtATime_AndAnAnswerIsTheProbeOuts()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(30, 3, port: 41234, Wait, clock);

        Assert.Equal(TraceStep.Send(0), schedule.Next());
        Assert.Equal(TraceStep.WaitFor(Wait), schedule.Next());
        Assert.Equal(41234, schedule.PortOf(0));
        Assert.Equal(41234, schedule.PortOf(7));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(-1, schedule.Match(41235, clock.GetTimestamp()));
        Answer(schedule, clock, port: 41234, Exceeded(Router1));

        Assert.Equal(TraceStep.Send(1), schedule.Next());
        Assert.Equal(TraceStep.WaitFor(Wait), schedule.Next());
        Assert.Equal(1, schedule.Match(41234, clock.GetTimestamp()));
    }

    [Fact]
    public void OnePort_AnAnswerReadBeforeTheProbeWasSent_IsNotItsAnswer()
    {
        // The previous probe's answer, late: it was read while nothing was out, and is dropped.
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(30, 1, port: 41234, Wait, clock);
        Assert.Equal(TraceStep.Send(0), schedule.Next());
        clock.Advance(Wait);
        long lateArrival = clock.GetTimestamp();
        Assert.Equal(TraceStep.Send(1), schedule.Next());
        clock.Advance(TimeSpan.FromMilliseconds(1));
        schedule.OnSending(1);

        Assert.Equal(-1, schedule.Match(41234, lateArrival));
        Assert.Equal(1, schedule.Match(41234, clock.GetTimestamp()));
    }

    [Fact]
    public void OnePort_ThreeHopPath_ListsTheSameHopsAsPortPerProbe()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(30, 3, port: 41234, Wait, clock);

        var hops = Simulate(schedule, clock, ttl => ttl switch
        {
            1 => Exceeded(Router1),
            2 => Exceeded(Router2),
            _ => TraceAnswer.Reply(Destination, 0),
        });

        Assert.Equal([Router1, Router2, Destination], hops.Select(h => h.From));
        Assert.Equal("reply", hops[2].Kind);
        Assert.Equal(9, schedule.Sent);
    }

    [Fact]
    public void LateAnswer_AfterTheProbesWait_IsIgnored()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(2, 1, port: null, Wait, clock);
        Assert.Equal(TraceStep.Send(0), schedule.Next());
        clock.Advance(Wait);
        Assert.Equal(TraceStep.Send(1), schedule.Next());

        Assert.Equal(-1, schedule.Match(33434, clock.GetTimestamp()));
        Assert.True(schedule.TryTakeHop(out var hop));
        Assert.Equal([null], hop.Probes);
    }

    [Fact]
    public void UnknownPorts_MatchNothing()
    {
        var clock = new ManualTimeProvider();
        var schedule = new TraceSchedule(30, 3, port: null, Wait, clock);
        SendAll(schedule);

        Assert.Equal(-1, schedule.Match(33433, clock.GetTimestamp()));
        Assert.Equal(-1, schedule.Match(33437, clock.GetTimestamp()));
        Assert.Equal(-1, schedule.Match(53, clock.GetTimestamp()));
        Assert.Equal(2, schedule.Match(33436, clock.GetTimestamp()));
    }

    private static TraceAnswer Exceeded(IPAddress from) => new("ttl-exceeded", from, Final: false, Flag: null, 0);

    private static TraceAnswer Unreachable(IPAddress from, string? flag = null) =>
        new(flag is null ? "port-unreachable" : "host-unreachable", from, Final: true, flag, 0);

    private static void SendAll(TraceSchedule schedule)
    {
        while (schedule.Next() is { Kind: TraceStepKind.Send })
        {
        }
    }

    private static void Answer(TraceSchedule schedule, ManualTimeProvider clock, int port, TraceAnswer answer)
    {
        int probe = schedule.Match(port, clock.GetTimestamp());
        Assert.True(probe >= 0, $"no probe out for port {port}");
        schedule.OnAnswer(probe, answer with { ArrivedAt = clock.GetTimestamp() });
    }

    /// <summary>Runs the schedule against a path where each TTL's probes are answered after 1 ms, or never (null).</summary>
    private static List<TraceHop> Simulate(TraceSchedule schedule, ManualTimeProvider clock, Func<int, TraceAnswer?> path)
    {
        var hops = new List<TraceHop>();
        var sent = new List<int>();
        for (int guard = 0; guard < 10_000; guard++)
        {
            while (schedule.TryTakeHop(out var hop))
            {
                hops.Add(hop);
            }

            var step = schedule.Next();
            if (step.Kind == TraceStepKind.Done)
            {
                while (schedule.TryTakeHop(out var hop))
                {
                    hops.Add(hop);
                }

                return hops;
            }

            if (step.Kind == TraceStepKind.Send)
            {
                schedule.OnSending(step.Probe);
                sent.Add(step.Probe);
                continue;
            }

            if (sent.Count == 0)
            {
                clock.Advance(step.Wait);
                continue;
            }

            clock.Advance(TimeSpan.FromMilliseconds(1));
            foreach (int probe in sent)
            {
                if (path(schedule.TtlOf(probe)) is { } answer && schedule.Match(schedule.PortOf(probe), clock.GetTimestamp()) == probe)
                {
                    schedule.OnAnswer(probe, answer with { ArrivedAt = clock.GetTimestamp() });
                }
            }

            sent.Clear();
        }

        throw new InvalidOperationException("The schedule did not finish.");
    }
}
