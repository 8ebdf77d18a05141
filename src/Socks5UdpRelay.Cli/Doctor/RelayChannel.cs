using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// An association under test: the control connection (after a successful UDP ASSOCIATE reply)
/// and a UDP socket connected to a relay address of doctor's choosing. Unlike the client library's
/// association it keeps what doctor needs to tell causes apart: the ICMP errors our own socket
/// gets, the greeting line as sent, every notice, and the order in which all of it happened.
/// One reader (the stage running) takes <see cref="WaitAsync"/>; datagrams and notices it does not
/// ask for are passed over.
/// </summary>
internal sealed class RelayChannel : IAsyncDisposable
{
    /// <summary>The largest UDP datagram (a 16-bit length).</summary>
    public const int MaxDatagramLength = 65_535;

    private readonly ProxyDialog _control;
    private readonly TimeProvider _time;
    private readonly Channel<RelayEvent> _events = Channel.CreateUnbounded<RelayEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource<string?> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ControlLineFeed _splitter;
    private readonly byte[] _sendBuffer = new byte[MaxDatagramLength];
    private readonly Task _controlLoop;
    private readonly List<Notice> _notices = [];
    private Socket _udp;
    private Task _receiveLoop;
    private int _socketErrors;

    private RelayChannel(ProxyDialog control, Socket udp, IPEndPoint relay, TimeProvider time)
    {
        _control = control;
        _time = time;
        _udp = udp;
        Relay = relay;
        _splitter = new ControlLineFeed(OnLine, OnLineSkipped);
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(udp));
        _controlLoop = Task.Run(ControlLoopAsync);
    }

    /// <summary>Where our datagrams go now.</summary>
    public IPEndPoint Relay { get; private set; }

    /// <summary>Our UDP socket's address, as a request that names it would give it.</summary>
    public IPEndPoint Local => (IPEndPoint)_udp.LocalEndPoint!;

    /// <summary>The first line on the control connection, exactly as sent; null when it ended first.</summary>
    public Task<string?> FirstLine => _firstLine.Task;

    public Task Closed => _closed.Task;

    /// <summary>ICMP-reported errors our own socket has had so far.</summary>
    public int SocketErrors => Volatile.Read(ref _socketErrors);

    /// <summary>Every notice read so far, in order.</summary>
    public IReadOnlyList<Notice> Notices
    {
        get
        {
            lock (_notices)
            {
                return [.. _notices];
            }
        }
    }

    /// <summary>A UDP socket for an association, bound (port 0) to the control connection's local address, as the client library binds it.</summary>
    public static Socket BindUdp(ProxyDialog control, AddressFamily family)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            var local = control.Local.Address.IsIPv4MappedToIPv6 ? control.Local.Address.MapToIPv4() : control.Local.Address;
            socket.Bind(new IPEndPoint(local.AddressFamily == family ? local : family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Takes over <paramref name="control"/> (its request answered with success) and <paramref name="udp"/> (bound), connecting it to <paramref name="relay"/>.</summary>
    public static RelayChannel Start(ProxyDialog control, Socket udp, IPEndPoint relay, TimeProvider time)
    {
        udp.Connect(relay);
        var channel = new RelayChannel(control, udp, relay, time);
        channel._splitter.Feed(control.TakeLeftover());
        return channel;
    }

    /// <summary>Sends to another relay address from now on, on a new socket (the association stays the same).</summary>
    public async Task RedirectAsync(IPEndPoint relay)
    {
        var old = _udp;
        var replacement = BindUdp(_control, relay.AddressFamily);
        replacement.Connect(relay);
        _udp = replacement;
        Relay = relay;
        old.Dispose();
        await _receiveLoop.ConfigureAwait(false);
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(replacement));
    }

    /// <summary>
    /// One datagram to <paramref name="target"/> with the RFC 1928 §7 header; <paramref name="fragment"/>
    /// sets FRAG (a server without reassembly must drop FRAG ≠ 0; ours says so in a notice).
    /// </summary>
    public async Task SendAsync(DoctorTarget target, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken, byte fragment = 0)
    {
        Span<byte> scratch = stackalloc byte[256];
        int header = UdpRequestHeader.Write(_sendBuffer, target.ToSocksAddress(scratch));
        _sendBuffer[2] = fragment;
        int room = _sendBuffer.Length - header;
        if (payload.Length > room)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), $"{payload.Length} bytes do not fit in a datagram with a {header}-byte header.");
        }

        payload.Span.CopyTo(_sendBuffer.AsSpan(header));
        await SendRawAsync(_sendBuffer.AsMemory(0, header + payload.Length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Bytes as they are, header or not (the relay check sends a datagram too short to be one).</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken)
    {
        try
        {
            await _udp.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (SocketException e) when (Client.SocketErrors.IsIcmpReported(e.SocketErrorCode))
        {
            // The send surfaced an error kept from an earlier datagram and did not transmit this one.
            Record(e.SocketErrorCode);
        }

        try
        {
            await _udp.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (Client.SocketErrors.IsIcmpReported(e.SocketErrorCode))
        {
            Record(e.SocketErrorCode);
        }
    }

    /// <summary>The first event <paramref name="wanted"/> accepts within <paramref name="wait"/>, or null. Events it does not accept are passed over.</summary>
    public async Task<RelayEvent?> WaitAsync(Func<RelayEvent, bool> wanted, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(wait, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            while (true)
            {
                var next = await _events.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
                if (wanted(next))
                {
                    return next;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Forgets events not yet read, so the next wait sees only what follows.</summary>
    public void Drain()
    {
        while (_events.Reader.TryRead(out _))
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _control.Socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the proxy.
        }

        _control.Dispose();
        _udp.Dispose();
        await Task.WhenAll(_controlLoop, _receiveLoop).ConfigureAwait(false);
    }

    private void Record(SocketError error)
    {
        Interlocked.Increment(ref _socketErrors);
        _events.Writer.TryWrite(new RelayEvent(RelayEventKind.SocketError, _time.GetTimestamp()) { Error = error });
    }

    private async Task ReceiveLoopAsync(Socket udp)
    {
        var buffer = new byte[MaxDatagramLength];
        while (true)
        {
            int received;
            try
            {
                received = await udp.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
            }
            catch (SocketException e) when (Client.SocketErrors.IsIcmpReported(e.SocketErrorCode) && udp == _udp)
            {
                Record(e.SocketErrorCode);
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            long now = _time.GetTimestamp();
            if (UdpRequestHeader.TryParse(buffer.AsSpan(0, received), out byte fragment, out var source, out int headerLength) && fragment == 0)
            {
                var from = source.Type == AddressType.DomainName
                    ? new Socks5Endpoint(source.GetHostName(), source.Port)
                    : new Socks5Endpoint(source.ToIPAddress(), source.Port);
                _events.Writer.TryWrite(new RelayEvent(RelayEventKind.Datagram, now) { Source = from, Payload = buffer[headerLength..received] });
            }
        }
    }

    private async Task ControlLoopAsync()
    {
        var buffer = new byte[NoticeFormat.MaxLineLength];
        try
        {
            while (true)
            {
                int received = await _control.Socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                _splitter.Feed(buffer.AsSpan(0, received));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Reset or disposed: the association is over either way.
        }

        _firstLine.TrySetResult(null);
        _closed.TrySetResult();
        _events.Writer.TryWrite(new RelayEvent(RelayEventKind.Closed, _time.GetTimestamp()));
    }

    private void OnLine(ReadOnlySpan<byte> line)
    {
        _firstLine.TrySetResult(System.Text.Encoding.Latin1.GetString(line).TrimEnd('\n', '\r'));
        if (Notice.TryParse(line, out var notice))
        {
            lock (_notices)
            {
                _notices.Add(notice);
            }

            _events.Writer.TryWrite(new RelayEvent(RelayEventKind.Notice, _time.GetTimestamp()) { Notice = notice });
        }
    }

    private void OnLineSkipped() => _firstLine.TrySetResult("(a line over 1024 bytes)");
}
