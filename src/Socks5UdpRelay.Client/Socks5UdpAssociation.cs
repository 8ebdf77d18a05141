using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// One SOCKS5 UDP association (RFC 1928 §7): the TCP control connection that keeps it alive, and
/// a UDP socket connected to the proxy's relay. Datagrams go out with <see cref="SendAsync(IPEndPoint, ReadOnlyMemory{byte}, CancellationToken)"/>
/// and come back with <see cref="ReceiveAsync"/>; notice lines the proxy writes on the control
/// connection (DESIGN.md, "Notices") arrive on <see cref="Notices"/>.
/// </summary>
/// <remarks>
/// One sender and one receiver may work at the same time: the association owns one send buffer
/// and one receive buffer, so concurrent calls to <c>SendAsync</c> (or to <c>ReceiveAsync</c>)
/// throw <see cref="InvalidOperationException"/>. Sending allocates nothing per datagram.
/// The UDP socket is connected to the relay endpoint, so the kernel reports ICMP errors for
/// it; those errors are counted in <see cref="IgnoredSocketErrors"/> and never thrown.
/// </remarks>
public sealed class Socks5UdpAssociation : IAsyncDisposable
{
    /// <summary>Notices kept for a reader that falls behind; older ones are dropped first.</summary>
    internal const int NoticeCapacity = 256;

    /// <summary>The largest UDP datagram (a 16-bit length): the receive buffer and the send buffer's payload room.</summary>
    private const int MaxDatagramLength = 65_535;

    private readonly Socket _control;
    private readonly Socket _udp;
    private readonly SocketAddress _relayAddress;
    private readonly SocketAddress _receivedFrom;
    private readonly byte[] _sendBuffer = new byte[MaxDatagramLength];
    private readonly byte[] _receiveBuffer = new byte[MaxDatagramLength];
    private readonly Channel<Notice> _notices;
    private readonly TaskCompletionSource<bool> _noticesSupported = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Socks5AssociationEnd> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly NoticeLineSplitter _splitter;
    private readonly Task _controlLoop;
    private bool _sawFirstLine;
    private int _sending;
    private int _receiving;
    private int _disposed;
    private long _droppedDatagrams;
    private long _ignoredSocketErrors;
    private long _droppedNotices;

    // The last source seen and the last host text sent, so a steady flow allocates neither an
    // endpoint per datagram received nor an IPAddress per datagram sent to an IP literal string.
    private Socks5Endpoint? _lastSource;
    private string? _lastHost;
    private IPAddress? _lastHostAddress;

    private Socks5UdpAssociation(Socket control, Socket udp, IPEndPoint relay)
    {
        _control = control;
        _udp = udp;
        RelayEndPoint = relay;
        LocalEndPoint = (IPEndPoint)udp.LocalEndPoint!;
        _relayAddress = relay.Serialize();
        _receivedFrom = new SocketAddress(relay.AddressFamily, SocketAddress.GetMaximumAddressSize(relay.AddressFamily));
        _notices = Channel.CreateBounded<Notice>(
            new BoundedChannelOptions(NoticeCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
            _ => Interlocked.Increment(ref _droppedNotices));
        _splitter = new NoticeLineSplitter(OnNoticeLine, OnLineSkipped);
        _controlLoop = Task.Run(RunControlLoopAsync);
    }

    /// <summary>The relay's UDP endpoint: BND from the reply, with 0.0.0.0 or :: replaced by the proxy's own address.</summary>
    public IPEndPoint RelayEndPoint { get; }

    /// <summary>The local endpoint of the UDP socket, bound to the same address as the control connection.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Every notice line that parsed, the first <c>NOTICES</c> line included, in order. It holds
    /// 256 notices: when the reader falls behind, the oldest are dropped and counted in
    /// <see cref="DroppedNotices"/>. A line over 1024 bytes is skipped. Completes when the control
    /// connection ends.
    /// </summary>
    public ChannelReader<Notice> Notices => _notices.Reader;

    /// <summary>
    /// True once the first line on the control connection is <c>NOTICES version=...</c>; false
    /// when anything else comes first or the connection ends before any line. It has no timeout
    /// of its own: a server that sends no notices sends nothing, so await it with one.
    /// </summary>
    public Task<bool> NoticesSupported => _noticesSupported.Task;

    /// <summary>Completes when the control connection ends, and so the association: proxy EOF, reset, or dispose.</summary>
    public Task<Socks5AssociationEnd> Closed => _closed.Task;

    /// <summary>Datagrams dropped on receive: not from <see cref="RelayEndPoint"/>, a malformed header, or FRAG ≠ 0.</summary>
    public long DroppedDatagrams => Interlocked.Read(ref _droppedDatagrams);

    /// <summary>ICMP-reported errors (connection refused, unreachable, ...) on the relay-facing UDP socket, ignored.</summary>
    public long IgnoredSocketErrors => Interlocked.Read(ref _ignoredSocketErrors);

    /// <summary>Notices dropped because <see cref="Notices"/> was full.</summary>
    public long DroppedNotices => Interlocked.Read(ref _droppedNotices);

    /// <summary>
    /// Connects to the proxy, negotiates (RFC 1929 when <see cref="Socks5ProxyOptions.Credentials"/>
    /// is set), sends UDP ASSOCIATE with DST 0.0.0.0:0 (or [::]:0 to an IPv6 proxy), and opens a
    /// UDP socket on the control connection's local address, connected to the relay.
    /// </summary>
    /// <exception cref="Socks5Exception">The proxy could not be reached, refused, or broke the protocol; or a timeout elapsed.</exception>
    public static async Task<Socks5UdpAssociation> OpenAsync(Socks5ProxyOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (control, bound) = await Socks5Handshake.EstablishAsync(options, Socks5Command.UdpAssociate, null, cancellationToken).ConfigureAwait(false);
        Socket? udp = null;
        try
        {
            var proxy = (IPEndPoint)control.RemoteEndPoint!;
            var relay = new IPEndPoint(await GetRelayAddressAsync(bound, Unmap(proxy.Address), cancellationToken).ConfigureAwait(false), bound.Port);
            if (relay.Port == 0)
            {
                throw new Socks5Exception(Socks5ErrorKind.ProtocolError, "The proxy's UDP ASSOCIATE reply names port 0.");
            }

            var local = Unmap(((IPEndPoint)control.LocalEndPoint!).Address);
            udp = Socks5Handshake.CreateSocket(options, relay.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(local.AddressFamily == relay.AddressFamily ? local : Any(relay.AddressFamily), 0));
            udp.Connect(relay);
            return new Socks5UdpAssociation(control, udp, relay);
        }
        catch (SocketException e)
        {
            control.Dispose();
            udp?.Dispose();
            throw new Socks5Exception(Socks5ErrorKind.ProxyUnreachable, $"Could not open a UDP socket towards the proxy's relay: {e.Message}", e);
        }
        catch
        {
            control.Dispose();
            udp?.Dispose();
            throw;
        }
    }

    /// <summary>Sends one datagram to an IP destination (ATYP 1 or 4; an IPv4-mapped address goes as IPv4).</summary>
    /// <exception cref="ArgumentException">The payload does not fit in one datagram with its header.</exception>
    /// <exception cref="InvalidOperationException">Another send is in progress.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(IPEndPoint destination, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        EnterSend();
        try
        {
            int length = WriteDatagram(destination.Address, destination.Port, payload.Span);
            await SendDatagramAsync(length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _sending, 0);
        }
    }

    /// <summary>
    /// Sends one datagram to a name (ATYP 3, resolved by the proxy) or, when <paramref name="host"/>
    /// is an IP literal, to that address (ATYP 1 or 4).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not 1 to 255 ASCII characters, or the payload does not fit.</exception>
    /// <exception cref="InvalidOperationException">Another send is in progress.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(string host, int port, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        EnterSend();
        try
        {
            if (!ReferenceEquals(host, _lastHost))
            {
                _lastHostAddress = HostText.TryParseIPLiteral(host, out var literal) ? literal : null;
                _lastHost = host;
            }

            int length = _lastHostAddress is { } address
                ? WriteDatagram(address, port, payload.Span)
                : WriteDatagram(host, port, payload.Span);
            await SendDatagramAsync(length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _sending, 0);
        }
    }

    /// <summary>
    /// Receives the next datagram from the relay and copies its payload to <paramref name="buffer"/>
    /// (truncated to the buffer's length, as <c>recv</c> does; 65 535 bytes never truncate).
    /// Datagrams not from the relay, with a malformed header or with FRAG ≠ 0 are dropped and
    /// counted; ICMP-reported socket errors are counted and the receive goes on. It does not end
    /// by itself when the control connection ends: watch <see cref="Closed"/> and cancel.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another receive is in progress.</exception>
    /// <exception cref="ObjectDisposedException">The association was disposed.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Socks5UdpReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _receiving, 1) != 0)
        {
            throw new InvalidOperationException("Another ReceiveAsync is in progress: receive from one task at a time.");
        }

        try
        {
            while (true)
            {
                int received;
                try
                {
                    received = await _udp.ReceiveFromAsync(_receiveBuffer, SocketFlags.None, _receivedFrom, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e) when (SocketErrors.IsIcmpReported(e.SocketErrorCode))
                {
                    Interlocked.Increment(ref _ignoredSocketErrors);
                    continue;
                }
                catch (SocketException e) when (Volatile.Read(ref _disposed) != 0)
                {
                    throw new ObjectDisposedException(nameof(Socks5UdpAssociation), e);
                }

                if (_receivedFrom.Equals(_relayAddress) && TryUnwrap(_receiveBuffer.AsSpan(0, received), buffer.Span, out var result))
                {
                    return result;
                }

                Interlocked.Increment(ref _droppedDatagrams);
            }
        }
        finally
        {
            Volatile.Write(ref _receiving, 0);
        }
    }

    /// <summary>Closes the control connection (which ends the association at the proxy) and the UDP socket, and completes <see cref="Notices"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            try
            {
                // An orderly FIN, so the proxy sees the client leave rather than a reset: closing
                // a socket with a receive pending would otherwise abort it.
                _control.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already reset or closed by the proxy.
            }

            _control.Dispose();
            _udp.Dispose();
        }

        await _controlLoop.ConfigureAwait(false);
    }

    private static IPAddress Unmap(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static IPAddress Any(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;

    private static async ValueTask<IPAddress> GetRelayAddressAsync(Socks5Endpoint bound, IPAddress proxy, CancellationToken cancellationToken)
    {
        if (bound.Address is { } address)
        {
            address = Unmap(address);
            // RFC 1928 leaves "BND 0.0.0.0" undefined; servers mean "the address you reached me at".
            return address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? proxy : address;
        }

        // A relay named by name: rare, but RFC 1928 allows it.
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(bound.Host!, cancellationToken).ConfigureAwait(false);
            return addresses.FirstOrDefault(a => a.AddressFamily == proxy.AddressFamily) ?? addresses.FirstOrDefault()
                ?? throw new Socks5Exception(Socks5ErrorKind.ProtocolError, $"The relay name '{bound.Host}' has no addresses.");
        }
        catch (SocketException e)
        {
            throw new Socks5Exception(Socks5ErrorKind.ProtocolError, $"The relay name '{bound.Host}' could not be resolved: {e.Message}", e);
        }
    }

    private void EnterSend()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _sending, 1) != 0)
        {
            throw new InvalidOperationException("Another SendAsync is in progress: send from one task at a time.");
        }
    }

    private int WriteDatagram(IPAddress address, int port, ReadOnlySpan<byte> payload)
    {
        ValidatePort(port);
        int header = UdpRequestHeader.Write(_sendBuffer, address, (ushort)port);
        return AppendPayload(header, payload);
    }

    private int WriteDatagram(string host, int port, ReadOnlySpan<byte> payload)
    {
        ValidatePort(port);
        if (host.Length > SocksAddressCodec.MaxDomainNameLength || !Ascii.IsValid(host))
        {
            throw new ArgumentException("A SOCKS5 domain name has 1 to 255 ASCII characters (IDNA-encode other names first).", nameof(host));
        }

        Span<byte> name = stackalloc byte[host.Length];
        Encoding.ASCII.GetBytes(host, name);
        int header = UdpRequestHeader.Write(_sendBuffer, new SocksAddress(AddressType.DomainName, name, (ushort)port));
        return AppendPayload(header, payload);
    }

    private static void ValidatePort(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
    }

    private int AppendPayload(int header, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > _sendBuffer.Length - header)
        {
            throw new ArgumentException($"A payload of {payload.Length} bytes does not fit in one datagram with its {header}-byte SOCKS header.", nameof(payload));
        }

        payload.CopyTo(_sendBuffer.AsSpan(header));
        return header + payload.Length;
    }

    private async ValueTask SendDatagramAsync(int length, CancellationToken cancellationToken)
    {
        try
        {
            await _udp.SendAsync(_sendBuffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (SocketException e) when (SocketErrors.IsIcmpReported(e.SocketErrorCode))
        {
            // The send only surfaced an error the kernel kept from an earlier datagram; this one was not sent.
            Interlocked.Increment(ref _ignoredSocketErrors);
        }
        catch (SocketException e) when (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(nameof(Socks5UdpAssociation), e);
        }

        await _udp.SendAsync(_sendBuffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    private bool TryUnwrap(ReadOnlySpan<byte> datagram, Span<byte> destination, out Socks5UdpReceiveResult result)
    {
        result = default;
        // No reassembly: RFC 1928 lets a client that does not support fragmentation drop FRAG ≠ 0.
        if (!UdpRequestHeader.TryParse(datagram, out byte fragment, out var source, out int headerLength) || fragment != 0)
        {
            return false;
        }

        var payload = datagram[headerLength..];
        int length = Math.Min(payload.Length, destination.Length);
        payload[..length].CopyTo(destination);
        result = new Socks5UdpReceiveResult(length, GetSource(source));
        return true;
    }

    private Socks5Endpoint GetSource(in SocksAddress source)
    {
        if (_lastSource is { } last && last.Port == source.Port && SameAddress(last, source))
        {
            return last;
        }

        return _lastSource = Socks5Endpoint.FromWire(source);
    }

    private static bool SameAddress(Socks5Endpoint endpoint, in SocksAddress wire)
    {
        if (wire.Type == AddressType.DomainName)
        {
            if (endpoint.Host is not { } host || host.Length != wire.AddressBytes.Length)
            {
                return false;
            }

            for (int i = 0; i < host.Length; i++)
            {
                if (host[i] != wire.AddressBytes[i])
                {
                    return false;
                }
            }

            return true;
        }

        Span<byte> bytes = stackalloc byte[16];
        return endpoint.Address is { } address
            && address.TryWriteBytes(bytes, out int written)
            && bytes[..written].SequenceEqual(wire.AddressBytes);
    }

    private async Task RunControlLoopAsync()
    {
        // One line is at most 1024 bytes; reading that much at a time keeps the splitter's copies short.
        byte[] buffer = new byte[NoticeFormat.MaxLineLength];
        Socks5AssociationEnd end;
        try
        {
            while (true)
            {
                int received = await _control.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    // Closing a socket with a receive pending may shut it down first, which reads as EOF.
                    end = Volatile.Read(ref _disposed) != 0 ? Socks5AssociationEnd.Disposed : Socks5AssociationEnd.ServerClosed;
                    break;
                }

                _splitter.Feed(buffer.AsSpan(0, received));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            end = Volatile.Read(ref _disposed) != 0 ? Socks5AssociationEnd.Disposed : Socks5AssociationEnd.ConnectionReset;
        }

        _noticesSupported.TrySetResult(false);
        _notices.Writer.TryComplete();
        _closed.TrySetResult(end);
    }

    private void OnNoticeLine(ReadOnlySpan<byte> line)
    {
        bool parsed = Notice.TryParse(line, out var notice);
        if (!_sawFirstLine)
        {
            _sawFirstLine = true;
            _noticesSupported.TrySetResult(parsed && notice!.Verb == NoticeVerbs.Notices && notice.Fields.ContainsKey(NoticeKeys.Version));
        }

        if (parsed)
        {
            _notices.Writer.TryWrite(notice!);
        }
    }

    // An over-long line is not NOTICES, so if it comes first the server does not speak notices.
    private void OnLineSkipped()
    {
        if (!_sawFirstLine)
        {
            _sawFirstLine = true;
            _noticesSupported.TrySetResult(false);
        }
    }
}
