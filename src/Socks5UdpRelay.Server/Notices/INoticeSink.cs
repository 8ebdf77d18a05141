namespace Socks5UdpRelay.Server.Notices;

/// <summary>Where an association's notice lines go: its control connection (<see cref="NoticeWriter"/>).</summary>
internal interface INoticeSink
{
    /// <summary>Lines that went out (or wait in the bounded queue).</summary>
    long Sent { get; }

    /// <summary>Lines dropped: the queue was full, or the connection gone.</summary>
    long Dropped { get; }

    /// <summary>Sends or queues one complete line (with its <c>\n</c>); false when it was dropped.</summary>
    bool TryEnqueue(ReadOnlySpan<byte> line);
}
