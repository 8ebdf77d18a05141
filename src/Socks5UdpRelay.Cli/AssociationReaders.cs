using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// The two readers a command runs beside its sender on an association (send, forward, probe,
/// trace): replies from the relay, and notices from the control connection, each until the
/// command cancels it. Cancelling ends them quietly; any other failure is the caller's.
/// </summary>
internal static class AssociationReaders
{
    /// <summary>The largest UDP payload: one buffer per reader, reused for every reply.</summary>
    private const int BufferSize = 65_535;

    /// <summary>Hands each reply to <paramref name="onReply"/> with its bytes, which stay valid until its task ends.</summary>
    public static async Task ReadRepliesAsync(
        Socks5UdpAssociation association, Func<Socks5UdpReceiveResult, ReadOnlyMemory<byte>, ValueTask> onReply, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferSize];
        try
        {
            while (true)
            {
                var result = await association.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                await onReply(result, buffer.AsMemory(0, result.Length)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Hands each reply's source and length to <paramref name="onReply"/>; the payload is read and dropped.</summary>
    public static Task ReadRepliesAsync(Socks5UdpAssociation association, Action<Socks5UdpReceiveResult> onReply, CancellationToken cancellationToken)
        => ReadRepliesAsync(
            association,
            (result, _) =>
            {
                onReply(result);
                return ValueTask.CompletedTask;
            },
            cancellationToken);

    /// <summary>Hands each notice to <paramref name="onNotice"/>, in the order the proxy wrote them.</summary>
    public static async Task ReadNoticesAsync(Socks5UdpAssociation association, Action<Notice> onNotice, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var notice in association.Notices.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                onNotice(notice);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
