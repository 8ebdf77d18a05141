using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>
/// A UDP service on loopback: answers each datagram with what <c>answer</c> returns, or stays
/// silent when it returns null (a bound port that never answers: no ICMP error either).
/// </summary>
internal sealed class UdpResponder : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Func<byte[], byte[]?> _answer;
    private readonly Task _loop;
    private int _received;

    public UdpResponder(Func<byte[], byte[]?> answer, IPAddress? address = null, int port = 0)
    {
        _answer = answer;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(address ?? IPAddress.Loopback, port));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(RunAsync);
    }

    public IPEndPoint EndPoint { get; }

    public int Port => EndPoint.Port;

    public int Received => Volatile.Read(ref _received);

    public static UdpResponder Echo(IPAddress? address = null) => new(d => d, address);

    public static UdpResponder Silent() => new(_ => null);

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _loop.Within();
    }

    private async Task RunAsync()
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        try
        {
            while (true)
            {
                SocketReceiveFromResult result;
                try
                {
                    result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
                {
                    continue;
                }

                Interlocked.Increment(ref _received);
                if (_answer(buffer[..result.ReceivedBytes]) is { } reply)
                {
                    await _socket.SendToAsync(reply, SocketFlags.None, result.RemoteEndPoint);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }
}
