using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// A SOCKS5 server that grants UDP over TCP (<c>CMD=0x05</c>, without the opt-in to notices, as
/// hev-socks5-server answers) and then reads nothing more: the frames a client writes pile up in
/// the kernel's buffers until TCP holds the next one back.
/// </summary>
internal sealed class StalledProxy : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _held = [];
    private readonly Task _loop;

    public StalledProxy()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _loop = Task.Run(RunAsync);
    }

    public IPEndPoint EndPoint { get; }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _loop.Within();
        lock (_held)
        {
            _held.ForEach(s => s.Dispose());
        }
    }

    private async Task RunAsync()
    {
        var buffer = new byte[600];
        try
        {
            while (true)
            {
                var client = await _listener.AcceptAsync();
                lock (_held)
                {
                    _held.Add(client);
                }

                // Methods, then the request: each in one segment from the tests' client.
                await client.ReceiveAsync(buffer);
                await client.SendAsync(new byte[] { 5, 0 });
                await client.ReceiveAsync(buffer);
                await client.SendAsync(new byte[] { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 });
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }
}
