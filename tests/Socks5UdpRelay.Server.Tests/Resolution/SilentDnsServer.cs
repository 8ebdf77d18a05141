using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>
/// A nameserver that never answers: a UDP socket on 127.0.0.1 that reads and counts the queries
/// sent to it and drops them, as an overloaded or firewalled server would.
/// </summary>
internal sealed class SilentDnsServer : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Task _loop;
    private int _received;

    public SilentDnsServer()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = ReadAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Queries received so far.</summary>
    public int Received => Volatile.Read(ref _received);

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _loop;
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[4096];
        while (true)
        {
            try
            {
                await _socket.ReceiveAsync(buffer);
                Interlocked.Increment(ref _received);
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return;
            }
        }
    }
}
