using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Logging;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// Accepts connections on a listening socket until the server stops or the socket is closed, and
/// survives everything else: a failed accept (out of file descriptors, out of memory, anything) is
/// logged, and accepting resumes after a back-off that doubles from 50 ms to 1 s; a connection whose
/// hand-over throws is closed and logged. One loop that ends on an error would leave a server that
/// holds its port, and its health check passing, while it serves no one.
/// </summary>
internal static class AcceptLoop
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(1);

    /// <summary>Hands each accepted connection to <paramref name="accepted"/>, which owns it from then on. Ends only when <paramref name="stopping"/> is cancelled or the listener is closed.</summary>
    public static async Task RunAsync(Socket listener, Action<Socket> accepted, ILogger logger, CancellationToken stopping)
    {
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var retry = FirstRetry;
        while (!stopping.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(stopping).ConfigureAwait(false);
                retry = FirstRetry;
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                Log.AcceptLoopEnded(logger, endpoint);
                return;
            }
            catch (Exception e)
            {
                // The back-off runs on the real clock: a test's manual clock must not stop accepting.
                Report(() => Log.AcceptFailed(logger, endpoint, e, retry));
                try
                {
                    await Task.Delay(retry, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
                continue;
            }

            try
            {
                accepted(connection);
            }
            catch (Exception e)
            {
                connection.Dispose();
                Report(() => Log.AcceptedConnectionFailed(logger, endpoint, e));
            }
        }
    }

    /// <summary>Writes a line about a failure; a logging provider that throws here too must not end accepting.</summary>
    private static void Report(Action write)
    {
        try
        {
            write();
        }
        catch (Exception)
        {
            // The log itself failed: accepting matters more than the line, and there is nowhere else to say it.
        }
    }
}
