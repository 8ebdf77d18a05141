namespace Socks5UdpRelay.Cli.Trace;

/// <summary>What <see cref="TraceSchedule.Next"/> says to do.</summary>
internal readonly record struct TraceStep(TraceStepKind Kind, int Probe, TimeSpan Wait)
{
    public static TraceStep Done => new(TraceStepKind.Done, -1, TimeSpan.Zero);

    public static TraceStep Send(int probe) => new(TraceStepKind.Send, probe, TimeSpan.Zero);

    public static TraceStep WaitFor(TimeSpan wait) => new(TraceStepKind.Wait, -1, wait);
}
