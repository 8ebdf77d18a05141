namespace Socks5UdpRelay.Cli.Probe;

/// <summary>How hard <c>probe</c> pushes and how long it listens. Defaults suit a remote Linux host.</summary>
internal sealed record ProbePacing
{
    /// <summary>Retries of a silent port before it is called open|filtered. Default 2 (three datagrams in all).</summary>
    public int Retries { get; init; } = 2;

    /// <summary>How long to listen after the first datagram to a port; each retry waits <see cref="Backoff"/> times longer. Default 1 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Growth of the wait from one attempt to the next. Default 2.</summary>
    public double Backoff { get; init; } = 2;

    /// <summary>Ports awaiting an answer at once, over all hosts. Default 64, well under the relay's 256 destinations per association.</summary>
    public int MaxInFlight { get; init; } = 64;

    /// <summary>
    /// The remote kernel's ICMP error budget towards one source, as Linux keeps it: a burst of 6,
    /// then 1 per second (ICMP-LINUX.md, "Rate limits"). Used only for a host that has shown it limits.
    /// </summary>
    public int IcmpBurst { get; init; } = 6;

    public double IcmpPerSecond { get; init; } = 1;

    /// <summary>Extra datagrams a silent port of a rate-limited host gets, sent within the ICMP budget. Default 1.</summary>
    public int PacedRetries { get; init; } = 1;

    /// <summary>Pause of all sending after the proxy says <c>UDP-DENIED reason=rate-limit</c>. Default 1 s.</summary>
    public TimeSpan DeniedPause { get; init; } = TimeSpan.FromSeconds(1);
}
