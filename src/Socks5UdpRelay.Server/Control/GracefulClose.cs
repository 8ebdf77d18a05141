using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// Ends a control connection with a FIN, never a reset (README, "Notices": the last line a client
/// reads is <c>CLOSING reason=…</c>, then end of stream). .NET closes a socket with a receive still
/// pending abortively (SO_LINGER 0: a RST, and a client that reads after the CLOSING line gets
/// ECONNRESET, maybe before the line itself) unless the send side was shut down first; and the
/// kernel resets a connection closed with unread bytes. So: shut the send side, let the reader
/// drain until the client's own FIN (at most <see cref="EofWait"/>), then close.
/// </summary>
internal static class GracefulClose
{
    /// <summary>How long a client has to answer our FIN with its own before the connection is closed anyway.</summary>
    public static readonly TimeSpan EofWait = TimeSpan.FromSeconds(1);

    /// <summary>Shuts down the send side and waits (bounded) for <paramref name="reader"/>, the task reading the connection to its end.</summary>
    public static async Task ShutdownAsync(Socket connection, Task reader)
    {
        try
        {
            connection.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return; // reset or closed already: nothing left to end gracefully
        }

        await reader.WaitAsync(EofWait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
