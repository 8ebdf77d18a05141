namespace Socks5UdpRelay.Server.Admin;

/// <summary>Every association at one tick of the <see cref="FlowFeed"/>, in id order; never changed once published.</summary>
internal sealed class FlowState
{
    public static readonly FlowState Empty = new(0, DateTimeOffset.UnixEpoch, []);

    public FlowState(long seq, DateTimeOffset at, IReadOnlyList<FlowEntry> entries)
    {
        Seq = seq;
        At = at;
        Entries = entries;
        ById = entries.ToDictionary(e => e.Id);
    }

    /// <summary>The tick's number, from 1; a stream's events carry it.</summary>
    public long Seq { get; }

    public DateTimeOffset At { get; }

    public IReadOnlyList<FlowEntry> Entries { get; }

    public IReadOnlyDictionary<long, FlowEntry> ById { get; }
}
