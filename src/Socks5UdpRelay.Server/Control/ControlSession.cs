using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Logging;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// One client's TCP control connection: the handshake, then the command it asked for. Owns the
/// connection and whatever the command opened; everything is closed when <see cref="RunAsync"/>
/// returns.
/// </summary>
internal sealed class ControlSession(Socket socket, Handshake handshake, AssociateCommand associate, ConnectRelay connect, ILogger logger)
{
    private readonly IPEndPoint _peer = EndPoints.Normalize(socket.RemoteEndPoint);

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            var input = new HandshakeBuffer();
            var request = await handshake.RunAsync(socket, input, _peer, stopping).ConfigureAwait(false);
            if (request is not { } r)
            {
                return;
            }

            // Bytes a client sent ahead of our reply: CONNECT passes them on; on an association's control connection they mean nothing.
            byte[] early = input.Release();
            switch (r.Command)
            {
                case Socks5Command.UdpAssociate:
                    await associate.RunAsync(socket, _peer, r.Destination, stopping, r.User).ConfigureAwait(false);
                    break;
                case Socks5Command.Connect:
                    await connect.RunAsync(socket, _peer, r.Destination, early, stopping).ConfigureAwait(false);
                    break;
                default:
                    Log.CommandNotSupported(logger, _peer, (int)r.Command);
                    ReplyWriter.Failure(socket, ReplyCode.CommandNotSupported);
                    break;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or the server is stopping: nothing to tell anyone.
        }
        catch (Exception e)
        {
            Log.SessionFailed(logger, e, _peer);
        }
        finally
        {
            socket.Dispose();
        }
    }
}
