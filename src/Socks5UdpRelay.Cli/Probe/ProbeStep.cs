namespace Socks5UdpRelay.Cli.Probe;

internal enum ProbeStepKind
{
    /// <summary>Send a datagram to <see cref="ProbeStep.Target"/> now.</summary>
    Send,

    /// <summary>Nothing to send before <see cref="ProbeStep.Wait"/> has passed, unless an answer comes first.</summary>
    Wait,

    /// <summary>Every target has a verdict.</summary>
    Done,
}

/// <summary>What <see cref="ProbeScheduler.Next"/> asks the caller to do.</summary>
internal readonly record struct ProbeStep(ProbeStepKind Kind, int Target, int Attempt, TimeSpan Wait)
{
    public static ProbeStep Done => new(ProbeStepKind.Done, -1, 0, TimeSpan.Zero);
}
