using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Logging;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// One client's TCP control connection: the handshake, then the command it asked for. Owns the
/// connection and whatever the command opened; everything is closed when <see cref="RunAsync"/>
/// returns. The connection's slot counts as an unfinished handshake until the request is in.
/// </summary>
internal sealed class ControlSession(Socket socket, ClientSlot slot, ControlSessionFactory shared)
{
    private readonly IPEndPoint _peer = EndPoints.Normalize(socket.RemoteEndPoint);

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            var input = new HandshakeBuffer();
            ParsedRequest? request;
            try
            {
                request = await shared.Handshake.RunAsync(socket, input, _peer, slot.Client, stopping).ConfigureAwait(false);
            }
            finally
            {
                shared.Tracker.EndHandshake(slot);
            }

            if (request is not { } r)
            {
                return;
            }

            // Bytes a client sent ahead of our reply: CONNECT passes them on, UDP over TCP reads them as frames; on an association's control connection they mean nothing.
            byte[] early = input.Release();
            switch (r.Command)
            {
                case Socks5Command.UdpAssociate:
                    if (shared.ClientPorts.Admits(socket, _peer, r.Destination))
                    {
                        await shared.Associate.RunAsync(socket, _peer, r.Destination, stopping, r.User).ConfigureAwait(false);
                    }

                    break;
                case Socks5Command.UdpOverTcp:
                    await shared.UdpOverTcp.RunAsync(socket, _peer, r.Destination, early, stopping, r.User).ConfigureAwait(false);
                    break;
                case Socks5Command.Connect:
                    await shared.Connect.RunAsync(socket, _peer, r.Destination, early, stopping).ConfigureAwait(false);
                    break;
                default:
                    Log.CommandNotSupported(shared.Logger, _peer, (int)r.Command);
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
            Log.SessionFailed(shared.Logger, e, _peer);
        }
        finally
        {
            socket.Dispose();
        }
    }
}
