using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// A connection from this host that <c>Policy:AllowClients</c> does not admit gets an answer
/// instead of a reset: its greeting is read and answered "no acceptable methods" (X'FF', RFC 1928
/// §3), then the connection closes. The health check (README, "Docker") connects from loopback
/// and counts that answer as healthy, so a container or pod with an allow-list that leaves
/// loopback out is not restarted forever. It grants nothing: X'FF' is the answer every method
/// negotiation of such a peer gets, so a local user is refused as SOCKS client exactly as before,
/// only politely. Peers on other hosts are still closed at once, unanswered.
/// </summary>
internal static class LocalProbeAnswer
{
    /// <summary>Long enough for a local process to send 257 bytes, short enough that idle connections cost nothing.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(3);

    /// <summary>
    /// True for a peer on this very host: a loopback address, or the listener's own address (a
    /// listener on one interface address is reached from the host through that address). No other
    /// host can complete a TCP handshake from either.
    /// </summary>
    public static bool IsFromThisHost(IPAddress peer, IPAddress local) => IPAddress.IsLoopback(peer) || peer.Equals(local);

    /// <summary>Reads the greeting (within <see cref="Deadline"/>), answers X'FF' and closes; the caller has handed over the connection.</summary>
    public static async Task AnswerAsync(Socket connection, TimeProvider time)
    {
        using (connection)
        {
            using var deadline = new CancellationTokenSource(Deadline, time);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(MethodSelection.MaxGreetingLength);
            try
            {
                int length = 0;
                var status = OperationStatus.NeedMoreData;
                while (status == OperationStatus.NeedMoreData && length < MethodSelection.MaxGreetingLength)
                {
                    int n = await connection.ReceiveAsync(buffer.AsMemory(length, MethodSelection.MaxGreetingLength - length), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        return;
                    }

                    length += n;
                    status = MethodSelection.TryReadGreeting(buffer.AsSpan(0, length), out _, out _);
                }

                if (status == OperationStatus.Done)
                {
                    int written = MethodSelection.WriteReply(buffer, AuthMethod.NoAcceptableMethods);
                    await connection.SendAsync(buffer.AsMemory(0, written), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                    connection.Shutdown(SocketShutdown.Send);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The peer went away or said nothing in time: nothing to answer.
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
