using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Client.Tests.Fakes;

/// <summary>Echoes every datagram back to its sender, on a loopback address and port 0.</summary>
internal sealed class UdpEchoServer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Task _loop;

    public UdpEchoServer(IPAddress address)
    {
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(address, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(RunAsync);
    }

    public IPEndPoint EndPoint { get; }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _loop;
    }

    private async Task RunAsync()
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any);
                await _socket.SendToAsync(buffer.AsMemory(0, result.ReceivedBytes), SocketFlags.None, result.RemoteEndPoint);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }
}
