using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Tests.Shared;

/// <summary>
/// A UDP service for a test: answers each datagram with what its answer function returns (the
/// datagram itself for an echo, RFC 862), or stays silent when that returns null (a bound port
/// that never answers: no ICMP error either). On loopback, or inside a namespace of a
/// <see cref="NetnsTopology"/> on a dual-mode socket that answers IPv4 and IPv6. Counts what it
/// received and remembers who sent it; dispose stops it and waits for its loop.
/// </summary>
public sealed class UdpResponder : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Func<byte[], byte[]?>? _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<IPEndPoint> _senders = [];
    private readonly Task _loop;
    private int _received;

    /// <summary>Answers with <paramref name="answer"/> on <paramref name="address"/> (127.0.0.1 unless given) and <paramref name="port"/> (0: any).</summary>
    public UdpResponder(Func<byte[], byte[]?> answer, IPAddress? address = null, int port = 0)
        : this(Bound(address ?? IPAddress.Loopback, port), answer)
    {
    }

    private UdpResponder(Socket socket, Func<byte[], byte[]?>? answer)
    {
        _socket = socket;
        _answer = answer;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _loop = Task.Run(RunAsync);
    }

    public IPEndPoint EndPoint { get; }

    public int Port => EndPoint.Port;

    /// <summary>Datagrams received so far.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Every address that sent a datagram, once each, in order of first arrival.</summary>
    public IReadOnlyList<IPEndPoint> Senders
    {
        get
        {
            lock (_senders)
            {
                return [.. _senders];
            }
        }
    }

    /// <summary>An echo server on <paramref name="address"/> (127.0.0.1 unless given) and a free port.</summary>
    public static UdpResponder Echo(IPAddress? address = null) => new(Bound(address ?? IPAddress.Loopback, 0), answer: null);

    /// <summary>A bound port on 127.0.0.1 that never answers.</summary>
    public static UdpResponder Silent() => new(_ => null);

    /// <summary>An echo server on <c>[::]:port</c> (IPv4 too) inside <paramref name="ns"/>.</summary>
    public static UdpResponder EchoIn(NetnsTopology topology, string ns, int port)
        => EchoOn(topology.CreateSocket(ns, AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp), port);

    /// <summary>An echo server on <paramref name="socket"/> (an unbound IPv6 UDP socket, made in the namespace of the caller's choice) at <c>[::]:port</c>, IPv4 too.</summary>
    public static UdpResponder EchoOn(Socket socket, int port)
    {
        try
        {
            socket.DualMode = true;
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            return new UdpResponder(socket, answer: null);
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
        await _loop.Within().ConfigureAwait(false);
        _stop.Dispose();
    }

    private static Socket Bound(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task RunAsync()
    {
        // One buffer for the service's life: the largest UDP payload (IPv6 without jumbograms).
        var buffer = new byte[65_527];
        EndPoint anyone = new IPEndPoint(EndPoint.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, anyone, _stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _received);
                Remember((IPEndPoint)result.RemoteEndPoint);
                if (_answer is null)
                {
                    await _socket.SendToAsync(buffer.AsMemory(0, result.ReceivedBytes), SocketFlags.None, result.RemoteEndPoint, _stop.Token).ConfigureAwait(false);
                }
                else if (_answer(buffer[..result.ReceivedBytes]) is { } answer)
                {
                    await _socket.SendToAsync(answer, SocketFlags.None, result.RemoteEndPoint, _stop.Token).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!_stop.IsCancellationRequested)
            {
                // One peer's trouble (an ICMP error for an earlier answer, an answer it cannot
                // route) must not stop the service for the others.
            }
            catch (SocketException)
            {
                return;
            }
        }
    }

    private void Remember(IPEndPoint sender)
    {
        lock (_senders)
        {
            if (!_senders.Contains(sender))
            {
                _senders.Add(sender);
            }
        }
    }
}
