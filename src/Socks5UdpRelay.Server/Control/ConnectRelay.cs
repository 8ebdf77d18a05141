using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Policy;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// CONNECT: a TCP relay between the client and one destination. Each direction is copied until
/// its source sends FIN, which is passed on as a FIN (half-close), so protocols that signal the
/// end of a request by closing their sending side work through the proxy.
/// </summary>
internal sealed class ConnectRelay(CachingResolver resolver, DestinationPolicy policy, TimeSpan connectTimeout, ILogger logger)
{
    private const int CopyBufferSize = 16 * 1024;

    public async Task RunAsync(Socket client, IPEndPoint peer, Destination destination, ReadOnlyMemory<byte> early, CancellationToken stopping)
    {
        var address = destination.Address;
        if (address is null)
        {
            var (resolved, failure) = await resolver.ResolveAsync(destination.Host!, stopping).ConfigureAwait(false);
            if (resolved is null)
            {
                var refusal = failure switch
                {
                    ResolveFailure.NoAddress => ReplyCode.AddressTypeNotSupported,
                    ResolveFailure.Busy => ReplyCode.GeneralFailure, // the server's limit, not the host's fault
                    _ => ReplyCode.HostUnreachable,
                };
                await FailAsync(client, peer, destination, refusal, stopping)
                    .ConfigureAwait(false);
                return;
            }

            address = resolved;
        }

        address = EndPoints.Normalize(address);
        if (!policy.IsAllowed(DestinationKey.From(address, destination.Port)))
        {
            await FailAsync(client, peer, destination, ReplyCode.ConnectionNotAllowed, stopping).ConfigureAwait(false);
            return;
        }

        using var upstream = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping))
        {
            deadline.CancelAfter(connectTimeout);
            try
            {
                await upstream.ConnectAsync(new IPEndPoint(address, destination.Port), deadline.Token).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                await FailAsync(client, peer, destination, ReplyFor(e.SocketErrorCode), stopping).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                await FailAsync(client, peer, destination, ReplyCode.HostUnreachable, stopping).ConfigureAwait(false);
                return;
            }
        }

        var bound = EndPoints.Normalize(upstream.LocalEndPoint);
        byte[] reply = new byte[Socks5Reply.MaxLength];
        int length = Socks5Reply.Write(reply, ReplyCode.Succeeded, bound.Address, (ushort)bound.Port);
        await client.SendAsync(reply.AsMemory(0, length), SocketFlags.None, stopping).ConfigureAwait(false);
        client.NoDelay = true;

        if (!early.IsEmpty)
        {
            await upstream.SendAsync(early, SocketFlags.None, stopping).ConfigureAwait(false);
        }

        using var closeOnStop = stopping.Register(static s => ((Socket)s!).Dispose(), upstream);
        var up = CopyAsync(client, upstream);
        var down = CopyAsync(upstream, client);
        await ((Task)Task.WhenAll(up, down)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Log.ConnectClosed(logger, peer, destination.ToString(), up.IsCompletedSuccessfully ? up.Result : -1, down.IsCompletedSuccessfully ? down.Result : -1);
    }

    private async Task FailAsync(Socket client, IPEndPoint peer, Destination destination, ReplyCode reply, CancellationToken cancellationToken)
    {
        Log.ConnectFailed(logger, peer, destination.ToString(), Socks5Reply.Describe(reply));
        byte[] buffer = new byte[Socks5Reply.FailureLength];
        Socks5Reply.WriteFailure(buffer, reply);
        await client.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies until FIN, then half-closes the other side; on an error both sides are torn down so the other direction ends too.</summary>
    private static async Task<long> CopyAsync(Socket from, Socket to)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        long total = 0;
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return total;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None).ConfigureAwait(false);
                total += read;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            AbortQuietly(from);
            AbortQuietly(to);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void AbortQuietly(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    private static ReplyCode ReplyFor(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => ReplyCode.ConnectionRefused,
        SocketError.NetworkUnreachable or SocketError.NetworkDown => ReplyCode.NetworkUnreachable,
        SocketError.HostUnreachable or SocketError.HostDown or SocketError.TimedOut => ReplyCode.HostUnreachable,
        SocketError.AccessDenied => ReplyCode.ConnectionNotAllowed,
        _ => ReplyCode.GeneralFailure,
    };
}
