using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>
/// What is written on an association's control connection: notices (dropped past a bound),
/// answers to commands (never dropped: the caller waits instead), and the end. Lines as
/// <see cref="NoticeWriter"/> writes them, or as control frames over UDP over TCP.
/// </summary>
internal interface IControlWriter : INoticeSink
{
    /// <summary>
    /// Sends or queues an answer line (its <c>\n</c> included). The task completes once there is
    /// room for more: the caller reads no further command until then.
    /// </summary>
    ValueTask WriteAnswerAsync(ReadOnlySpan<byte> line);

    /// <summary>No more lines; the task ends when what is queued has been written or the connection failed.</summary>
    Task CompleteAsync();

    /// <summary>
    /// One non-blocking send on the client's connection, what a writer tries before it queues; the
    /// bytes it took (0 when the socket has no room or is gone).
    /// </summary>
    static int TrySendNow(Socket socket, ReadOnlySpan<byte> data)
    {
        try
        {
            int sent = socket.Send(data, SocketFlags.None, out var error);
            return error == SocketError.Success ? sent : 0;
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
    }
}
