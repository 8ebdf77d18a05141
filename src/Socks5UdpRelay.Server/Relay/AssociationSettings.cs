namespace Socks5UdpRelay.Server.Relay;

/// <summary>The limits and timeouts of every association (from <c>Relay</c> and <c>Limits</c> configuration; see config/appsettings.json).</summary>
internal sealed record AssociationSettings(
    int MaxDatagramSize,
    TimeSpan DestinationIdleTimeout,
    TimeSpan AssociationIdleTimeout,
    int MaxDestinations,
    TimeSpan ResolverCacheTime,
    int DatagramsPerSecond,
    int DatagramBurst,
    NameLimits Names,
    InboundSettings Inbound,
    int MaxMappings = 64)
{
    /// <summary>How often idle destinations and the association's own idleness are checked: a quarter of the shorter timeout, within 0.25–30 s.</summary>
    public TimeSpan SweepPeriod
    {
        get
        {
            var shortest = DestinationIdleTimeout;
            if (AssociationIdleTimeout > TimeSpan.Zero && AssociationIdleTimeout < shortest)
            {
                shortest = AssociationIdleTimeout;
            }

            return TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 4, TimeSpan.TicksPerSecond / 4, TimeSpan.TicksPerSecond * 30));
        }
    }
}
