using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Tests.Shared.Topology;

/// <summary>
/// A UDP echo server (RFC 862) inside one namespace of a topology, on a dual-mode socket so one
/// server answers IPv4 and IPv6. Counts what it received; dispose stops it and waits for its loop.
/// </summary>
public sealed class UdpEchoServer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _received;

    private UdpEchoServer(Socket socket)
    {
        _socket = socket;
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        _loop = RunAsync();
    }

    /// <summary>The bound port (useful when started on port 0).</summary>
    public int Port { get; }

    /// <summary>Datagrams received so far.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Starts an echo server on <c>[::]:port</c> (IPv4 too) inside <paramref name="ns"/>.</summary>
    public static UdpEchoServer Start(NetnsTopology topology, string ns, int port)
        => Start(topology.CreateSocket(ns, AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp), port);

    /// <summary>Starts an echo server on <paramref name="socket"/> (an unbound IPv6 UDP socket, made in the namespace of the caller's choice) at <c>[::]:port</c>.</summary>
    public static UdpEchoServer Start(Socket socket, int port)
    {
        try
        {
            socket.DualMode = true;
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            return new UdpEchoServer(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        // One buffer for the server's life: the largest UDP payload over IPv6 without jumbograms.
        var buffer = new byte[65_527];
        var anyone = new IPEndPoint(IPAddress.IPv6Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, anyone, _stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _received);
                await _socket.SendToAsync(buffer.AsMemory(0, result.ReceivedBytes), SocketFlags.None, result.RemoteEndPoint, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!_stop.IsCancellationRequested)
            {
                // One peer's trouble (its reply unroutable, say) must not stop the echo for the others.
            }
            catch (SocketException)
            {
                return;
            }
        }
    }
}
