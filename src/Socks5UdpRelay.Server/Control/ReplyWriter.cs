using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Control;

/// <summary>Writes a handshake message the proxy owes a client.</summary>
internal delegate int MessageWriter<in TState>(Span<byte> buffer, TState state);

/// <summary>
/// Handshake replies, sent synchronously: at most a few dozen bytes per connection can never
/// fill the kernel's send buffer, so this never waits, and the connection keeps no send event
/// args for the rest of its life (an association's control connection lives long).
/// </summary>
internal static class ReplyWriter
{
    public static void Send<TState>(Socket socket, MessageWriter<TState> write, TState state)
    {
        Span<byte> buffer = stackalloc byte[Socks5Reply.MaxLength];
        int length = write(buffer, state);
        if (socket.Send(buffer[..length], SocketFlags.None) != length)
        {
            throw new SocketException((int)SocketError.NoBufferSpaceAvailable);
        }
    }

    public static void Failure(Socket socket, ReplyCode reply) => Send(socket, static (b, r) => Socks5Reply.WriteFailure(b, r), reply);
}
