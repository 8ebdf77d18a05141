using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Icmp;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>
/// One connected UDP socket from an association to one resolved destination, bound to the
/// association's shared outbound port with SO_REUSEPORT. Being connected is the point: the
/// kernel then reports the destination's ICMP errors on it. On the epoll loop its replies are
/// read and sent on in batches (<see cref="DatagramBatch"/>); on the portable path its own loop
/// waits with a zero-byte receive (no buffer pinned while idle), then drains into a pooled buffer.
/// </summary>
internal sealed class DestinationSocket : IDisposable, IReadyHandler
{
    /// <summary>Room in front of a received payload for the reply header (22 bytes for IPv6).</summary>
    public const int HeaderRoom = UdpRequestHeader.IPv6Length;

    /// <summary>Enough for the largest UDP payload, so nothing is truncated silently.</summary>
    public const int ReceiveBufferSize = HeaderRoom + 65_536;

    private const int SolSocket = 1;
    private const int SoReusePort = 15;
    private const int DrainBudget = 64;

    private readonly Socket _socket;
    private readonly byte[] _replyHeader;
    private readonly IRelaySink _sink;
    private readonly IErrorQueueReader _errorQueue;
    private readonly TimeProvider _time;
    private readonly UdpEventLoop? _eventLoop;
    private ulong _registration;
    private Task _loop = Task.CompletedTask;
    private long _lastActivity;
    private long _lastSent;

    // The receive loop and the sender may handle errors at the same time: one list per thread.
    [ThreadStatic]
    private static List<SocketErrorReport>? _reports;
    private int _disposed;

    private DestinationSocket(DestinationKey key, Socket socket, IRelaySink sink, IErrorQueueReader errorQueue, TimeProvider time, UdpEventLoop? eventLoop)
    {
        _eventLoop = eventLoop;
        Key = key;
        _socket = socket;
        _sink = sink;
        _errorQueue = errorQueue;
        _time = time;
        var ip = key.ToIPAddress();
        _replyHeader = new byte[UdpRequestHeader.FixedLength + SocksAddressCodec.GetEncodedLength(
            key.IsIPv4 ? AddressType.IPv4 : AddressType.IPv6, key.IsIPv4 ? 4 : 16)];
        UdpRequestHeader.Write(_replyHeader, ip, key.Port);
        _lastActivity = time.GetTimestamp();
    }

    public DestinationKey Key { get; }

    /// <summary>The name the client last used for this destination, or null when it sent to the address.</summary>
    public string? AddressedAs { get; set; }

    public long LastActivity => Volatile.Read(ref _lastActivity);

    /// <summary>When the client last sent here: an ICMP error for a destination it has not sent to lately is not believed.</summary>
    public long LastSent => Volatile.Read(ref _lastSent);

    /// <summary>Datagrams and bytes each way, for the destination's flow summary (one writer each: the client loop, this socket's loop).</summary>
    public long DatagramsSent;
    public long BytesSent;
    public long DatagramsReceived;
    public long BytesReceived;

    public ReadOnlySpan<byte> ReplyHeader => _replyHeader;

    public Task Loop => _loop;

    /// <summary>
    /// Opens the socket: SO_REUSEPORT alone (SO_REUSEADDR would let other local users join the
    /// port), the error queue switched on, bound to the shared port, connected to the destination.
    /// </summary>
    public static DestinationSocket Open(DestinationKey key, int localPort, IRelaySink sink, IErrorQueueReader errorQueue, TimeProvider time, UdpEventLoop? eventLoop)
    {
        var family = key.IsIPv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (family == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            errorQueue.Enable(socket);
            socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, localPort));
            socket.Connect(key.ToEndPoint());
            socket.Blocking = false;
            return new DestinationSocket(key, socket, sink, errorQueue, time, eventLoop);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts receiving: on the event loop where there is one, else an async loop started on the
    /// calling thread (its first step only posts a zero-byte receive and returns; a hop through
    /// the thread pool here delayed the first error of a new destination by up to milliseconds).
    /// </summary>
    public void Start()
    {
        if (_eventLoop is not null && (_registration = _eventLoop.Add(_socket, this)) != 0)
        {
            return;
        }

        _loop = ReceiveLoopAsync();
    }

    /// <summary>The event loop's call: errors first (reading the error queue also clears the pending error), then the datagrams.</summary>
    void IReadyHandler.OnReady(bool error, DatagramBatch batch)
    {
        if (error && _errorQueue.IsSupported)
        {
            ReportQueuedErrors();
        }

        // A short batch means the queue is empty; a full one may leave more, up to the budget (the rest waits for the next wake-up).
        for (int taken = 0; taken < DrainBudget;)
        {
            int count = batch.Receive(_socket, withAddresses: false);
            if (count < 0)
            {
                if (!HandleError(ErrnoNames.ToSocketError(-count)))
                {
                    return;
                }

                taken++; // the kernel reports a pending error once; the budget still bounds the loop
                continue;
            }

            for (int i = 0; i < count; i++)
            {
                var datagram = batch.WithHeaderRoom(i, _replyHeader.Length);
                Received(datagram, datagram.Length - _replyHeader.Length);
            }

            if (count > 0)
            {
                _sink.RelayToClient(batch, count, _replyHeader.Length);
            }

            if (count < DatagramBatch.Capacity)
            {
                return;
            }

            taken += count;
        }
    }

    /// <summary>
    /// Sends one payload. A send that fails on an error the kernel held from an earlier datagram
    /// transmitted nothing: the error is reported and the send made once more, so no datagram is
    /// lost to it. False when the datagram could not be sent.
    /// </summary>
    public bool Send(ReadOnlySpan<byte> payload)
    {
        try
        {
            return SendOnce(payload);
        }
        catch (ObjectDisposedException)
        {
            // Closed under us (idle sweep, eviction): this datagram is lost like any sent to a closing flow.
            return false;
        }
    }

    private bool SendOnce(ReadOnlySpan<byte> payload)
    {
        long now = _time.GetTimestamp();
        Volatile.Write(ref _lastActivity, now);
        Volatile.Write(ref _lastSent, now);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            _socket.Send(payload, SocketFlags.None, out var error);
            if (error == SocketError.Success)
            {
                DatagramsSent++;
                BytesSent += payload.Length;
                return true;
            }

            if (error == SocketError.WouldBlock)
            {
                // A full socket send buffer: wait briefly for room rather than drop at once.
                if (!_socket.Poll(1_000, SelectMode.SelectWrite))
                {
                    return false;
                }

                continue;
            }

            if (!HandleError(error))
            {
                return false;
            }

            if (attempt == 0)
            {
                _sink.OnSendRetried();
            }
        }

        return false;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _eventLoop?.Remove(_registration);
            _socket.Dispose();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            try
            {
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                if (!HandleError(e.SocketErrorCode))
                {
                    return;
                }

                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (!Drain())
            {
                return;
            }
        }
    }

    /// <summary>Reads what is queued into a pooled buffer (the async loop's path). False when the socket is gone.</summary>
    private bool Drain()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        try
        {
            return DrainInto(buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads what is queued, up to a budget so one busy destination cannot starve the others. False when the socket is gone.</summary>
    private bool DrainInto(byte[] buffer)
    {
        for (int i = 0; i < DrainBudget; i++)
        {
            int received;
            SocketError error;
            try
            {
                received = _socket.Receive(buffer.AsSpan(HeaderRoom), SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                return false;
            }

            if (error == SocketError.WouldBlock)
            {
                return true;
            }

            if (error != SocketError.Success)
            {
                if (!HandleError(error))
                {
                    return false;
                }

                continue;
            }

            var datagram = buffer.AsSpan(HeaderRoom - _replyHeader.Length, _replyHeader.Length + received);
            Received(datagram, received);
            _sink.RelayToClient(datagram, received);
        }

        return true;
    }

    /// <summary>A datagram from the destination, with room for the reply header in front: counted, and the header written in.</summary>
    private void Received(Span<byte> datagram, int payloadLength)
    {
        Volatile.Write(ref _lastActivity, _time.GetTimestamp());
        DatagramsReceived++;
        BytesReceived += payloadLength;
        _replyHeader.CopyTo(datagram);
    }

    /// <summary>Reports what the kernel's error queue holds; nothing when another thread already read it.</summary>
    private void ReportQueuedErrors()
    {
        var reports = _reports ??= new List<SocketErrorReport>(1);
        reports.Clear();
        _errorQueue.Drain(_socket, reports);
        foreach (var report in reports)
        {
            _sink.OnDestinationError(this, report);
        }
    }

    /// <summary>
    /// Turns an error indication into reports: every entry of the kernel's error queue where it is
    /// on (draining it also clears the pending error), else the errno alone. False when the error
    /// says the socket is shutting down.
    /// </summary>
    private bool HandleError(SocketError error)
    {
        if (Volatile.Read(ref _disposed) != 0 || SocketErrorClassifier.IsShutdownNoise(error))
        {
            return false;
        }

        if (_errorQueue.IsSupported)
        {
            var reports = _reports ??= new List<SocketErrorReport>(1);
            reports.Clear();
            _errorQueue.Drain(_socket, reports);
            foreach (var report in reports)
            {
                _sink.OnDestinationError(this, report);
            }

            if (reports.Count > 0)
            {
                return true;
            }
        }

        if (SocketErrorClassifier.TryClassify(error, out var fallback))
        {
            _sink.OnDestinationError(this, fallback);
        }
        else
        {
            _sink.OnDestinationError(this, SocketErrorClassifier.Unclassified(error));
        }

        return true;
    }
}
