using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Socks5UdpRelay.Gateway.Notices;
using Socks5UdpRelay.Gateway.Plane;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// The device side of the uplink replaced by test code: replies and notices are recorded (replies
/// copied, unless <see cref="CountOnly"/>, which records nothing that allocates).
/// </summary>
internal sealed class RecordingDownlink : IDownlink
{
    private readonly Channel<(FlowId Flow, IPEndPoint Source, byte[] Payload)> _replies = Channel.CreateUnbounded<(FlowId, IPEndPoint, byte[])>();
    private long _replyCount;

    /// <summary>Record only the count (and, with <see cref="OnReplyThread"/>, call back), allocating nothing per reply.</summary>
    public bool CountOnly { get; set; }

    /// <summary>Called on the thread that wrote each reply, with the count so far.</summary>
    public Action<long>? OnReplyThread { get; set; }

    public long ReplyCount => Interlocked.Read(ref _replyCount);

    public ConcurrentQueue<(FlowId Flow, Notice Notice)> Notices { get; } = new();

    public byte DefaultTtl(bool ipv6) => 64;

    public bool WriteUdpReply(FlowId flow, ReadOnlySpan<byte> sourceAddress, ushort sourcePort, ReadOnlySpan<byte> payload)
    {
        long count = Interlocked.Increment(ref _replyCount);
        OnReplyThread?.Invoke(count);
        if (!CountOnly)
        {
            _replies.Writer.TryWrite((flow, new IPEndPoint(new IPAddress(sourceAddress), sourcePort), payload.ToArray()));
        }

        return true;
    }

    public NoticeMappingResult WriteNotice(FlowId flow, Notice notice)
    {
        Notices.Enqueue((flow, notice));
        return NoticeMappingResult.Injected;
    }

    /// <summary>The next reply written, bounded by the test timeout.</summary>
    public async Task<(FlowId Flow, IPEndPoint Source, byte[] Payload)> NextReplyAsync() =>
        await _replies.Reader.ReadAsync(TestTimeout.Token);

    /// <summary>The next reply written within <paramref name="wait"/>, or null.</summary>
    public async Task<(FlowId Flow, IPEndPoint Source, byte[] Payload)?> NextReplyAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return await _replies.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
