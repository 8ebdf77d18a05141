using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// A TCP connection to the server from a source address of the test's choosing (any of
/// 127.0.0.0/8 works on loopback), so one test can be several clients, or several networks, at
/// once. Bytes on the wire, as <see cref="RawSocks"/> writes them.
/// </summary>
internal sealed class SourcedSocket : IAsyncDisposable
{
    private SourcedSocket(Socket socket)
    {
        Socket = socket;
    }

    public Socket Socket { get; }

    public static async Task<SourcedSocket> ConnectAsync(IPEndPoint server, IPAddress source, CancellationToken? cancellationToken = null)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(server, cancellationToken ?? TestTimeout.Token);
            return new SourcedSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task SendAsync(params byte[] bytes) => await Socket.SendAsync(bytes, SocketFlags.None, TestTimeout.Token);

    /// <summary>Reads <paramref name="count"/> bytes, or fewer if the server closes (or resets) first.</summary>
    public async Task<byte[]> ReadAsync(int count, CancellationToken? cancellationToken = null)
    {
        byte[] buffer = new byte[count];
        int total = 0;
        try
        {
            while (total < count)
            {
                int n = await Socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, cancellationToken ?? TestTimeout.Token);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Closed on accept (a limit) with the connection not yet read: what arrived is all there is.
        }

        return buffer[..total];
    }

    public ValueTask DisposeAsync()
    {
        Socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
