namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>A clock that moves only when the test says so (TimeProvider.Testing is not served here). Timestamps only: the scheduler needs no timers.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public TimeSpan Now => TimeSpan.FromTicks(GetTimestamp());

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
