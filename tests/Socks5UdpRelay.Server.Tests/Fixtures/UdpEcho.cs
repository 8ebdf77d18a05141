using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>A UDP echo target on loopback: every datagram goes back to its sender, and each sender is remembered.</summary>
internal sealed class UdpEcho : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Task _loop;
    private readonly List<IPEndPoint> _senders = [];

    public UdpEcho(IPAddress address)
    {
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(address, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(LoopAsync);
    }

    public IPEndPoint EndPoint { get; }

    public int Port => EndPoint.Port;

    public IReadOnlyList<IPEndPoint> Senders
    {
        get
        {
            lock (_senders)
            {
                return _senders.ToArray();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task LoopAsync()
    {
        byte[] buffer = new byte[65_536];
        EndPoint any = new IPEndPoint(EndPoint.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (true)
        {
            var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any);
            var sender = (IPEndPoint)result.RemoteEndPoint;
            lock (_senders)
            {
                if (!_senders.Contains(sender))
                {
                    _senders.Add(sender);
                }
            }

            await _socket.SendToAsync(buffer.AsMemory(0, result.ReceivedBytes), SocketFlags.None, sender);
        }
    }
}
