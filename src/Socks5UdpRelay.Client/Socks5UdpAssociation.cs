using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// One SOCKS5 UDP association (RFC 1928 §7): the TCP control connection that keeps it alive, and
/// a UDP socket connected to the proxy's relay; or, opened with <see cref="Socks5UdpTransport.Tcp"/>,
/// datagrams framed on the TCP connection itself (the README, "UDP over TCP"), for where UDP to the
/// proxy is blocked. Datagrams go out with <see cref="SendAsync(IPEndPoint, ReadOnlyMemory{byte}, CancellationToken)"/>
/// and come back with <see cref="ReceiveAsync"/>; notice lines the proxy writes on the control
/// connection (the README, "Notices") arrive on <see cref="Notices"/>. A proxy whose greeting
/// offers commands (<see cref="SupportedCommands"/>) also takes <see cref="SetTtlAsync(IPEndPoint, int?, Socks5UdpMapping?, CancellationToken)"/>
/// and <see cref="MapAsync"/> (the README, "Client commands"). Both transports have the same surface.
/// </summary>
/// <remarks>
/// One sender and one receiver may work at the same time: the association owns one send buffer
/// and one receive buffer, so concurrent calls to <c>SendAsync</c> (or to <c>ReceiveAsync</c>)
/// throw <see cref="InvalidOperationException"/>. Sending allocates nothing per datagram, and
/// neither does receiving while the association has no other mapping (over TCP: ever). The UDP
/// socket is connected to the relay endpoint, so the kernel reports ICMP errors for it; those
/// errors are counted in <see cref="IgnoredSocketErrors"/> and never thrown. Commands may be
/// called from any number of tasks: they are written one at a time, at most 16 await their
/// answers, and the rest wait for room. Over TCP a send completes once its frame is written to the
/// connection: a proxy that reads slowly slows the sender (TCP), and the token stops only the wait
/// for the writer, never a frame half-way; datagrams that <see cref="ReceiveAsync"/> does not take
/// wait in a queue of 256, past which they are dropped and counted, so notices and answers behind
/// them always get through.
/// </remarks>
public sealed class Socks5UdpAssociation : IAsyncDisposable, IFrameSink
{
    /// <summary>Notices kept for a reader that falls behind; older ones are dropped first.</summary>
    internal const int NoticeCapacity = 256;

    /// <summary>
    /// Where <see cref="CheckUdpPathAsync"/> sends its probe: 0.0.0.0 ("this host", which RFC 1122
    /// §3.2.1.3 forbids as a destination), refused by a Socks5UdpRelay server in every configuration
    /// before any operator rule, so it always answers <c>UDP-DENIED … reason=policy</c>. Port 9: discard.
    /// </summary>
    internal static readonly IPEndPoint PathProbeDestination = new(IPAddress.Any, 9);

    /// <summary>The control connection is read in blocks this size; a line is at most 1024 bytes.</summary>
    private const int ControlBufferLength = 4 * NoticeFormat.MaxLineLength;

    /// <summary>How many probe datagrams <see cref="CheckUdpPathAsync"/> sends over its wait, evenly spaced, in case one is lost.</summary>
    private const int PathProbes = 4;

    private static readonly string PathProbeText = NoticeFormat.FormatEndpoint(PathProbeDestination.Address, PathProbeDestination.Port);

    private readonly Socket _control;
    private readonly Socket? _udp;
    private readonly UdpOverTcpConnection? _frames;
    private readonly SocketAddress _relayAddress;
    private readonly SocketAddress _receivedFrom;

    // Datagrams are written behind room for a mapped frame's longer header (UdpOverTcpConnection.FrameRoom).
    private readonly byte[] _sendBuffer = new byte[UdpOverTcpConnection.FrameRoom + DatagramEncoder.MaxDatagramLength];
    private readonly byte[]? _receiveBuffer;
    private readonly DatagramEncoder _encoder = new(0);
    private readonly SourceCache _sources = new();
    private readonly Channel<Notice> _notices;
    private readonly TaskCompletionSource<bool> _noticesSupported = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<OfferedCommands> _supportedCommands = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Socks5AssociationEnd> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CommandChannel _commands;
    private readonly ConcurrentDictionary<ushort, Socks5UdpMapping> _mappings = new();
    private readonly List<Task> _background = [];

    // Who reads the relay-facing socket: a ReceiveAsync of the association itself while it has no
    // other mapping, the demultiplexer once it has. Held, never waited for, by ReceiveAsync.
    private readonly SemaphoreSlim _socketReader = new(1, 1);
    private readonly Task _controlLoop;
    private ControlLineFramer _framer;

    // The first mapping's datagrams once someone else reads them for it: the demultiplexer (UDP,
    // from the first MAP on) or the frame reader (TCP, always).
    private MappingInbox? _inbox;
    private Task? _demultiplexer;
    private TaskCompletionSource<bool>? _pathProbe;
    private bool _sawFirstLine;
    private int _sending;
    private int _receiving;
    private int _disposed;
    private long _droppedDatagrams;
    private long _ignoredSocketErrors;
    private long _droppedNotices;

    private Socks5UdpAssociation(Socket control, Socket? udp, UdpOverTcpConnection? frames, IPEndPoint relay, TimeSpan greetingTimeout)
    {
        _control = control;
        _udp = udp;
        _frames = frames;
        CommandGrace = greetingTimeout;
        RelayEndPoint = relay;
        LocalEndPoint = (IPEndPoint)(udp ?? control).LocalEndPoint!;
        _relayAddress = relay.Serialize();
        _receivedFrom = new SocketAddress(relay.AddressFamily, SocketAddress.GetMaximumAddressSize(relay.AddressFamily));
        _notices = Channel.CreateBounded<Notice>(
            new BoundedChannelOptions(NoticeCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
            _ => Interlocked.Increment(ref _droppedNotices));
        if (frames is null)
        {
            _receiveBuffer = new byte[DatagramEncoder.MaxDatagramLength];
            _commands = new CommandChannel(control);
            _controlLoop = Task.Run(RunControlLoopAsync);
            return;
        }

        _inbox = new MappingInbox();
        _commands = new CommandChannel(frames.SendLineAsync);
        if (!frames.OptedIn)
        {
            // The reply did not name the opt-in: datagram frames only, as for a hev-socks5 client.
            _noticesSupported.TrySetResult(false);
            _supportedCommands.TrySetResult(OfferedCommands.None);
        }

        _controlLoop = Task.Run(RunFrameLoopAsync);
    }

    /// <summary>
    /// The relay's UDP endpoint: BND from the reply, with 0.0.0.0 or :: replaced by the proxy's own
    /// address. Over TCP, the proxy's endpoint, where the frames go.
    /// </summary>
    public IPEndPoint RelayEndPoint { get; }

    /// <summary>
    /// The local endpoint of the UDP socket, bound to the same address as the control connection,
    /// and named in the UDP ASSOCIATE request, so the proxy takes datagrams from it alone. Over
    /// TCP, the control connection's local endpoint.
    /// </summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>How datagrams travel: <see cref="Socks5UdpTransport.Udp"/> (UDP ASSOCIATE) or <see cref="Socks5UdpTransport.Tcp"/> (UDP over TCP).</summary>
    public Socks5UdpTransport Transport => _frames is null ? Socks5UdpTransport.Udp : Socks5UdpTransport.Tcp;

    /// <summary>
    /// Every notice line that parsed, the first <c>NOTICES</c> line included, in order. It holds
    /// 256 notices: when the reader falls behind, the oldest are dropped and counted in
    /// <see cref="DroppedNotices"/>. A line over 1024 bytes is skipped. Answers to commands are
    /// not notices and never come here. Completes when the control connection ends.
    /// </summary>
    public ChannelReader<Notice> Notices => _notices.Reader;

    /// <summary>
    /// True once the first line on the control connection is <c>NOTICES version=...</c>; false
    /// when anything else comes first or the connection ends before any line. It has no timeout
    /// of its own: a server that sends no notices sends nothing, so await it with one. Over TCP it
    /// is false at once when the proxy's reply did not take up the opt-in (the README, "Notices
    /// and commands over TCP").
    /// </summary>
    public Task<bool> NoticesSupported => _noticesSupported.Task;

    /// <summary>
    /// The commands the proxy accepts, from the <c>commands=</c> key of its <c>NOTICES</c>
    /// greeting; <see cref="OfferedCommands.None"/> when the first line is no such greeting or the
    /// connection ends before any line. Like <see cref="NoticesSupported"/> it has no timeout of
    /// its own; commands wait for it at most <see cref="Socks5ProxyOptions.HandshakeTimeout"/>.
    /// </summary>
    public Task<OfferedCommands> SupportedCommands => _supportedCommands.Task;

    /// <summary>Completes when the control connection ends, and so the association: proxy EOF, reset, a malformed frame, or dispose.</summary>
    public Task<Socks5AssociationEnd> Closed => _closed.Task;

    /// <summary>
    /// Datagrams dropped on receive: not from <see cref="RelayEndPoint"/>, a malformed header,
    /// FRAG ≠ 0, a mapping number (RSV) this association does not hold, or (once there are
    /// mappings, and always over TCP) more waiting for <see cref="ReceiveAsync"/> than it keeps (256).
    /// </summary>
    public long DroppedDatagrams => Interlocked.Read(ref _droppedDatagrams) + (_inbox?.Dropped ?? 0);

    /// <summary>ICMP-reported errors (connection refused, unreachable, ...) on the relay-facing UDP socket, ignored.</summary>
    public long IgnoredSocketErrors => Interlocked.Read(ref _ignoredSocketErrors);

    /// <summary>Notices dropped because <see cref="Notices"/> was full.</summary>
    public long DroppedNotices => Interlocked.Read(ref _droppedNotices);

    /// <summary>
    /// Connects to the proxy, negotiates (RFC 1929 when <see cref="Socks5ProxyOptions.Credentials"/>
    /// is set), binds a UDP socket on the control connection's local address, and sends UDP
    /// ASSOCIATE naming that address and the socket's port, so the proxy relays datagrams from
    /// that socket only and nobody else can take the association over by sending first (RFC 1928
    /// §6 lets a server restrict the association to the address the request names). The socket is
    /// then connected to the relay. In the rare case that the relay is of the other address family
    /// than the control connection, the named socket cannot reach it: a socket of the relay's
    /// family on the wildcard address is used instead, and the name in the request is then wrong,
    /// which a proxy that enforces it refuses (as it would the other family anyway).
    /// </summary>
    /// <exception cref="Socks5Exception">The proxy could not be reached, refused, or broke the protocol; or a timeout elapsed.</exception>
    public static Task<Socks5UdpAssociation> OpenAsync(Socks5ProxyOptions options, CancellationToken cancellationToken = default)
        => OpenAsync(options, Socks5UdpTransport.Udp, cancellationToken);

    /// <summary>
    /// As <see cref="OpenAsync(Socks5ProxyOptions, CancellationToken)"/> for
    /// <see cref="Socks5UdpTransport.Udp"/>. For <see cref="Socks5UdpTransport.Tcp"/>: negotiates
    /// as ever, then sends <c>CMD=0x05</c> naming <c>NOTICES:1</c>, the request for notices and
    /// commands as control frames (the README, "Notices and commands over TCP"). A proxy that
    /// agrees gives an association like a UDP one in every respect; any other success reply
    /// (hev-socks5-server, or this server with notices off) gives datagrams only:
    /// <see cref="NoticesSupported"/> is false at once and no command is offered.
    /// </summary>
    /// <exception cref="Socks5Exception">
    /// The proxy could not be reached, refused, or broke the protocol; or a timeout elapsed. A proxy
    /// that does not offer UDP over TCP answers REP 7: <see cref="Socks5Exception.Reply"/> is
    /// <see cref="ReplyCode.CommandNotSupported"/> and the message says "UDP over TCP is not offered by this proxy".
    /// </exception>
    public static async Task<Socks5UdpAssociation> OpenAsync(Socks5ProxyOptions options, Socks5UdpTransport transport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (transport == Socks5UdpTransport.Tcp)
        {
            var frames = await UdpOverTcpConnection.OpenAsync(options, cancellationToken).ConfigureAwait(false);
            return new Socks5UdpAssociation(frames.Socket, null, frames, frames.RemoteEndPoint, options.HandshakeTimeout);
        }

        Socket? udp = null;
        Socket? control = null;
        try
        {
            (control, var bound) = await Socks5Handshake.EstablishAsync(
                options,
                Socks5Command.UdpAssociate,
                connected =>
                {
                    var local = Unmap(((IPEndPoint)connected.LocalEndPoint!).Address);
                    try
                    {
                        udp = BindUdp(options, local);
                    }
                    catch (SocketException e)
                    {
                        throw new Socks5Exception(Socks5ErrorKind.ProxyUnreachable, $"Could not bind a UDP socket on {local}: {e.Message}", e);
                    }

                    return new Socks5Endpoint(local, ((IPEndPoint)udp.LocalEndPoint!).Port);
                },
                cancellationToken).ConfigureAwait(false);
            var proxy = (IPEndPoint)control.RemoteEndPoint!;
            var relay = new IPEndPoint(await GetRelayAddressAsync(bound, Unmap(proxy.Address), cancellationToken).ConfigureAwait(false), bound.Port);
            if (relay.Port == 0)
            {
                throw new Socks5Exception(Socks5ErrorKind.ProtocolError, "The proxy's UDP ASSOCIATE reply names port 0.");
            }

            if (udp!.AddressFamily != relay.AddressFamily)
            {
                udp.Dispose();
                udp = BindUdp(options, Any(relay.AddressFamily));
            }

            udp.Connect(relay);
            return new Socks5UdpAssociation(control, udp, null, relay, options.HandshakeTimeout);
        }
        catch (SocketException e)
        {
            control?.Dispose();
            udp?.Dispose();
            throw new Socks5Exception(Socks5ErrorKind.ProxyUnreachable, $"Could not open a UDP socket towards the proxy's relay: {e.Message}", e);
        }
        catch
        {
            control?.Dispose();
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
            int length = _encoder.Write(_sendBuffer.AsSpan(UdpOverTcpConnection.FrameRoom), destination.Address, destination.Port, payload.Span);
            await SendDatagramAsync(_sendBuffer, length, cancellationToken).ConfigureAwait(false);
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
            int length = _encoder.Write(_sendBuffer.AsSpan(UdpOverTcpConnection.FrameRoom), host, port, payload.Span);
            await SendDatagramAsync(_sendBuffer, length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _sending, 0);
        }
    }

    /// <summary>
    /// Receives the next datagram from the relay for the association's first mapping and copies
    /// its payload to <paramref name="buffer"/> (truncated to the buffer's length, as <c>recv</c>
    /// does; 65 535 bytes never truncate). Datagrams not from the relay, with a malformed header or
    /// with FRAG ≠ 0 are dropped and counted; ICMP-reported socket errors are counted and the
    /// receive goes on. Datagrams for another mapping (by RSV) go to that mapping's
    /// <see cref="Socks5UdpMapping.ReceiveAsync"/>. It does not end by itself when the control
    /// connection ends: watch <see cref="Closed"/> and cancel.
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
            if (Volatile.Read(ref _inbox) is null && _socketReader.Wait(0))
            {
                try
                {
                    if (Volatile.Read(ref _inbox) is null)
                    {
                        return await ReceiveDirectAsync(buffer, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    _socketReader.Release();
                }
            }

            return await _inbox!.ReceiveAsync(buffer, this, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _receiving, 0);
        }
    }

    /// <summary>
    /// <c>SET dst=… ttl=N</c>: datagrams to <paramref name="destination"/> leave the relay with
    /// IPv4 TTL / IPv6 hop limit <paramref name="ttl"/> (1-255; null restores the system default),
    /// from the first mapping or from <paramref name="mapping"/>. Completes once the setting is in
    /// force: a datagram sent after it leaves with the new TTL.
    /// </summary>
    /// <returns>The <c>SET-OK</c> answer: <see cref="CommandAnswer.Address"/> is where a name resolved to.</returns>
    /// <exception cref="NotSupportedException">The proxy does not offer <c>SET</c> (its greeting, awaited for at most <see cref="Socks5ProxyOptions.HandshakeTimeout"/>, did not list it).</exception>
    /// <exception cref="Socks5CommandException">The proxy answered <c>SET-FAILED</c> (policy, unresolved, limit, rate-limit, invalid) or <c>COMMAND-FAILED</c>.</exception>
    /// <exception cref="Socks5Exception">The association ended before the answer (<see cref="Socks5ErrorKind.AssociationClosed"/>), or the proxy broke the protocol.</exception>
    public Task<CommandAnswer> SetTtlAsync(IPEndPoint destination, int? ttl, Socks5UdpMapping? mapping = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return SetTtlAsync(new Socks5Endpoint(destination.Address, destination.Port), ttl, mapping, cancellationToken);
    }

    /// <summary>
    /// As <see cref="SetTtlAsync(IPEndPoint, int?, Socks5UdpMapping?, CancellationToken)"/>, to a
    /// name (resolved by the proxy, as a datagram to it would be) or an IP literal.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not 1 to 255 ASCII characters.</exception>
    public Task<CommandAnswer> SetTtlAsync(string host, int port, int? ttl, Socks5UdpMapping? mapping = null, CancellationToken cancellationToken = default)
        => SetTtlAsync(HostText.ToEndpoint(host, port), ttl, mapping, cancellationToken);

    /// <summary>
    /// <c>MAP</c>: a new mapping on this association, with its own outbound port at the relay
    /// (its own endpoint-independent NAT mapping) behind the same relay endpoint. Its datagrams
    /// carry its number in RSV; its replies come to it alone.
    /// </summary>
    /// <exception cref="NotSupportedException">The proxy does not offer <c>MAP</c>.</exception>
    /// <exception cref="Socks5CommandException">The proxy answered <c>MAP-FAILED</c> (limit, rate-limit).</exception>
    /// <exception cref="Socks5Exception">The association ended before the answer, or the proxy broke the protocol.</exception>
    public async Task<Socks5UdpMapping> MapAsync(CancellationToken cancellationToken = default)
    {
        await RequireAsync(OfferedCommands.Map, CommandVerbs.Map, cancellationToken).ConfigureAwait(false);
        var answer = await _commands.SendAsync(CommandVerbs.Map, static b => ClientCommandWriter.WriteMap(b), cancellationToken).ConfigureAwait(false);
        CommandAnswer result;
        try
        {
            result = await answer.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The proxy will still make the mapping: release it when the answer comes.
            Track(ReleaseUnwantedMappingAsync(answer));
            throw;
        }

        return AddMapping(ThrowIfFailed(CommandVerbs.Map, result));
    }

    /// <summary>
    /// Tells, on positive evidence only, whether datagrams from here reach the proxy's relay. It
    /// waits (at most <paramref name="wait"/>) for the <c>NOTICES</c> greeting; without one the
    /// proxy reports nothing, its silence proves nothing, and the answer is
    /// <see cref="Socks5UdpPath.Unknown"/>. Then it sends a probe datagram to 0.0.0.0:9, which a
    /// Socks5UdpRelay server refuses in every configuration and so answers with a notice on the
    /// control connection (<c>UDP-DENIED dst=0.0.0.0:9 reason=policy</c>): that notice is
    /// <see cref="Socks5UdpPath.Reaches"/>; none within <paramref name="wait"/> more, with the
    /// control connection up all along, is <see cref="Socks5UdpPath.Blocked"/>; so is a probe this
    /// host refuses to send (a local firewall's drop fails the send with EPERM). The probe goes out
    /// 4 times, evenly over the wait, in case one is lost; its notices never reach <see cref="Notices"/>.
    /// Call it before sending, from the task that sends.
    /// </summary>
    /// <exception cref="InvalidOperationException">The association is over TCP: it has no UDP path.</exception>
    /// <exception cref="ObjectDisposedException">The association was disposed.</exception>
    public async Task<Socks5UdpPath> CheckUdpPathAsync(TimeSpan wait, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (_frames is not null)
        {
            throw new InvalidOperationException("An association over TCP has no UDP path to check.");
        }

        try
        {
            if (!await _noticesSupported.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false))
            {
                return Socks5UdpPath.Unknown;
            }
        }
        catch (TimeoutException)
        {
            return Socks5UdpPath.Unknown;
        }

        Interlocked.CompareExchange(ref _pathProbe, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously), null);
        var answered = _pathProbe.Task;
        if (Closed.IsCompleted)
        {
            return Socks5UdpPath.Unknown;
        }

        byte[] probe = new byte[UdpOverTcpConnection.FrameRoom + UdpRequestHeader.IPv4Length];
        int length = UdpRequestHeader.Write(probe.AsSpan(UdpOverTcpConnection.FrameRoom), PathProbeDestination.Address, (ushort)PathProbeDestination.Port);
        for (int i = 0; i < PathProbes && !answered.IsCompleted; i++)
        {
            try
            {
                await SendDatagramAsync(probe, length, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // Refused here, twice over (SendDatagramAsync sends again after an earlier error): not from here, then.
                return Socks5UdpPath.Blocked;
            }

            try
            {
                await answered.WaitAsync(wait / PathProbes, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Silence so far: the next probe, or the verdict.
            }
        }

        return !answered.IsCompleted ? Socks5UdpPath.Blocked : answered.Result ? Socks5UdpPath.Reaches : Socks5UdpPath.Unknown;
    }

    /// <summary>
    /// Closes the control connection (which ends the association, and every mapping, at the
    /// proxy) and the UDP socket; completes <see cref="Notices"/>, and fails commands still
    /// waiting for an answer with <see cref="ObjectDisposedException"/>.
    /// </summary>
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
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already reset or closed by the proxy, or closed here after a malformed frame.
            }

            _control.Dispose();
            _udp?.Dispose();
        }

        await _controlLoop.ConfigureAwait(false);
        if (_frames is not null)
        {
            // Over TCP the frame reader feeds every inbox; what the demultiplexer does when its socket closes is done here.
            _inbox!.Complete();
            foreach (var mapping in _mappings.Values)
            {
                mapping.CloseLocally();
            }
        }

        Task[] background;
        lock (_background)
        {
            background = [.. _background, Volatile.Read(ref _demultiplexer) ?? Task.CompletedTask];
        }

        await Task.WhenAll(background).ConfigureAwait(false);
    }

    internal async Task<CommandAnswer> SetTtlAsync(Socks5Endpoint destination, int? ttl, Socks5UdpMapping? mapping, CancellationToken cancellationToken)
    {
        if (ttl is not null)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(ttl.Value, 1, nameof(ttl));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(ttl.Value, 255, nameof(ttl));
        }

        if (mapping is not null && !ReferenceEquals(mapping.Association, this))
        {
            throw new ArgumentException("The mapping belongs to another association.", nameof(mapping));
        }

        // Checked here, where the caller sees it, and not in the writer, where it would fail the command.
        ArgumentOutOfRangeException.ThrowIfZero(destination.Port, nameof(destination));
        destination.ToWire(stackalloc byte[SocksAddressCodec.MaxDomainNameLength]);
        await RequireAsync(OfferedCommands.Set, CommandVerbs.Set, cancellationToken).ConfigureAwait(false);
        ushort number = mapping?.Number ?? 0;
        var answer = await _commands.SendAsync(
            CommandVerbs.Set,
            b => ClientCommandWriter.WriteSet(b, destination.ToWire(stackalloc byte[SocksAddressCodec.MaxDomainNameLength]), ttl ?? ClientCommand.DefaultTtl, number),
            cancellationToken).ConfigureAwait(false);
        return ThrowIfFailed(CommandVerbs.Set, await answer.WaitAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary><c>UNMAP</c>; the mapping is closed here once the proxy no longer holds it.</summary>
    internal async Task UnmapAsync(Socks5UdpMapping mapping, CancellationToken cancellationToken)
    {
        var answer = await _commands.SendAsync(CommandVerbs.Unmap, b => ClientCommandWriter.WriteUnmap(b, mapping.Number), cancellationToken).ConfigureAwait(false);
        var result = await answer.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (result.Succeeded || result.Reason == CommandFailureReason.Invalid)
        {
            // Invalid: the proxy holds no such mapping (it closed it idle, say), so it is gone either way.
            _mappings.TryRemove(mapping.Number, out _);
            mapping.CloseLocally();
        }

        ThrowIfFailed(CommandVerbs.Unmap, result);
    }

    /// <summary>UNMAP for a mapping being disposed: never throws, and owned by the association until it ends.</summary>
    internal Task UnmapQuietlyAsync(Socks5UdpMapping mapping)
    {
        var task = Quietly(mapping);
        Track(task);
        return task;

        async Task Quietly(Socks5UdpMapping mapping)
        {
            try
            {
                await UnmapAsync(mapping, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Socks5CommandException or Socks5Exception or ObjectDisposedException)
            {
                // Refused (rate-limit) or the association ended: nothing more to release from here.
            }
        }
    }

    /// <summary>How long the library waits for the proxy where a caller cannot say: for the greeting, and for UNMAP on dispose.</summary>
    internal TimeSpan CommandGrace { get; }

    /// <summary>
    /// Sends a whole datagram: <paramref name="buffer"/> holds <see cref="UdpOverTcpConnection.FrameRoom"/>
    /// spare bytes, then the SOCKS UDP datagram of <paramref name="length"/> bytes, RSV naming its
    /// mapping. On the relay-facing socket as it is; over TCP as its frame, made in place. The one
    /// send path of the association and its mappings.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask SendDatagramAsync(Memory<byte> buffer, int length, CancellationToken cancellationToken)
    {
        if (_frames is not null)
        {
            try
            {
                await _frames.SendDatagramAsync(buffer, length, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException e) when (Volatile.Read(ref _disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(Socks5UdpAssociation), e);
            }
        }

        var datagram = buffer.Slice(UdpOverTcpConnection.FrameRoom, length);
        try
        {
            await _udp!.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
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

        await _udp!.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private static Socket BindUdp(Socks5ProxyOptions options, IPAddress local)
    {
        var udp = Socks5Handshake.CreateSocket(options, local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            udp.Bind(new IPEndPoint(local, 0));
            return udp;
        }
        catch
        {
            udp.Dispose();
            throw;
        }
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

    private static CommandAnswer ThrowIfFailed(string verb, CommandAnswer answer)
        => answer.Succeeded ? answer : throw new Socks5CommandException(verb, answer);

    private void EnterSend()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _sending, 1) != 0)
        {
            throw new InvalidOperationException("Another SendAsync is in progress: send from one task at a time.");
        }
    }

    /// <summary>Waits (bounded) for the greeting, then fails fast when it does not offer <paramref name="needed"/>.</summary>
    private async ValueTask RequireAsync(OfferedCommands needed, string verb, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        OfferedCommands offered;
        try
        {
            offered = await _supportedCommands.Task.WaitAsync(CommandGrace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new NotSupportedException(
                $"The proxy sent no NOTICES greeting within {CommandGrace}, so it takes no commands ({verb}): it is not a Socks5UdpRelay server, or its notices are off.");
        }

        if ((offered & needed) == 0)
        {
            throw new NotSupportedException(
                $"The proxy does not offer {verb}: its greeting lists commands={OfferedCommandsFormat.ToWireValue(offered)} (commands may be off in its configuration).");
        }
    }

    private Socks5UdpMapping AddMapping(CommandAnswer answer)
    {
        if (answer.Mapping is not { } number || number == 0 || answer.Port is not { } port)
        {
            throw new Socks5Exception(Socks5ErrorKind.ProtocolError, $"The proxy's MAP-OK names no usable mapping and port: '{answer.Line}'.");
        }

        // Sorting by RSV starts first, so no datagram of the new mapping is taken for the first one's.
        // Over TCP the frame reader sorts by the frames' mapping already.
        if (_frames is null)
        {
            StartDemultiplexer();
        }

        var mapping = new Socks5UdpMapping(this, number, port);
        if (!_mappings.TryAdd(number, mapping))
        {
            throw new Socks5Exception(Socks5ErrorKind.ProtocolError, $"The proxy handed out mapping {number} twice.");
        }

        return mapping;
    }

    private async Task ReleaseUnwantedMappingAsync(Task<CommandAnswer> answer)
    {
        try
        {
            var result = await answer.ConfigureAwait(false);
            if (result.Succeeded)
            {
                await UnmapQuietlyAsync(AddMapping(result)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is Socks5Exception or ObjectDisposedException)
        {
            // The association ended, and the mapping with it.
        }
    }

    private void Track(Task task)
    {
        lock (_background)
        {
            _background.RemoveAll(t => t.IsCompleted);
            _background.Add(task);
        }
    }

    /// <summary>
    /// From the first extra mapping on, one task reads the relay-facing socket and hands each
    /// datagram to its mapping's inbox by RSV, the association's own (mapping 0) included. It
    /// takes the socket over once a direct <see cref="ReceiveAsync"/> in flight returns; until
    /// then that receive sorts what it reads the same way.
    /// </summary>
    private void StartDemultiplexer()
    {
        lock (_mappings)
        {
            if (_demultiplexer is not null)
            {
                return;
            }

            Volatile.Write(ref _inbox, new MappingInbox());
            _demultiplexer = Task.Run(RunDemultiplexerAsync);
        }
    }

    private async Task RunDemultiplexerAsync()
    {
        await _socketReader.WaitAsync().ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(DatagramEncoder.MaxDatagramLength);
        try
        {
            while (true)
            {
                int received;
                try
                {
                    received = await _udp!.ReceiveFromAsync(buffer, SocketFlags.None, _receivedFrom).ConfigureAwait(false);
                }
                catch (SocketException e) when (SocketErrors.IsIcmpReported(e.SocketErrorCode))
                {
                    Interlocked.Increment(ref _ignoredSocketErrors);
                    continue;
                }

                if (!_receivedFrom.Equals(_relayAddress) || Route(buffer.AsSpan(0, received), direct: false, out _, out _) == Routed.Dropped)
                {
                    Interlocked.Increment(ref _droppedDatagrams);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _inbox!.Complete();
            foreach (var mapping in _mappings.Values)
            {
                mapping.CloseLocally();
            }

            _socketReader.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Socks5UdpReceiveResult> ReceiveDirectAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            int received;
            try
            {
                received = await _udp!.ReceiveFromAsync(_receiveBuffer!, SocketFlags.None, _receivedFrom, cancellationToken).ConfigureAwait(false);
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

            if (!_receivedFrom.Equals(_relayAddress))
            {
                Interlocked.Increment(ref _droppedDatagrams);
                continue;
            }

            var routed = Route(_receiveBuffer.AsSpan(0, received), direct: true, out var source, out int headerLength);
            if (routed == Routed.Own)
            {
                var payload = _receiveBuffer!.AsSpan(headerLength, received - headerLength);
                int length = Math.Min(payload.Length, buffer.Length);
                payload[..length].CopyTo(buffer.Span);
                return new Socks5UdpReceiveResult(length, _sources.Get(source));
            }

            if (routed == Routed.Dropped)
            {
                Interlocked.Increment(ref _droppedDatagrams);
            }
        }
    }

    /// <summary>
    /// Sorts one datagram from the relay: <see cref="Routed.Dropped"/> for a malformed header,
    /// FRAG ≠ 0 (no reassembly: RFC 1928 lets a client that does not support fragmentation drop
    /// it) or a mapping not held; <see cref="Routed.Posted"/> when it went to a mapping's inbox;
    /// <see cref="Routed.Own"/> when it is the first mapping's and the <paramref name="direct"/>
    /// reader takes it itself (the demultiplexer posts those to the first mapping's inbox). Until
    /// the first <c>MAP</c> RSV is not looked at: RFC 1928 reserves it, and a proxy that does not
    /// offer mappings may put anything there.
    /// </summary>
    private Routed Route(ReadOnlySpan<byte> datagram, bool direct, out SocksAddress source, out int headerLength)
    {
        if (!UdpRequestHeader.TryParse(datagram, out ushort number, out byte fragment, out source, out headerLength) || fragment != 0)
        {
            return Routed.Dropped;
        }

        if (number == 0 || Volatile.Read(ref _inbox) is null)
        {
            if (direct)
            {
                return Routed.Own;
            }

            _inbox!.Post(datagram[headerLength..], source);
            return Routed.Posted;
        }

        if (!_mappings.TryGetValue(number, out var mapping))
        {
            return Routed.Dropped;
        }

        mapping.Inbox.Post(datagram[headerLength..], source);
        return Routed.Posted;
    }

    private async Task RunControlLoopAsync()
    {
        byte[] buffer = new byte[ControlBufferLength];
        int have = 0;
        ControlLineFramer.LineHandler onLine = OnLine; // one delegate for the loop, not one per read
        Action onSkipped = OnLineSkipped;
        Socks5AssociationEnd end;
        try
        {
            while (true)
            {
                int received = await _control.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    // Closing a socket with a receive pending may shut it down first, which reads as EOF.
                    end = Volatile.Read(ref _disposed) != 0 ? Socks5AssociationEnd.Disposed : Socks5AssociationEnd.ServerClosed;
                    break;
                }

                have = _framer.ReadLines(buffer, have + received, onLine, onSkipped);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            end = Volatile.Read(ref _disposed) != 0 ? Socks5AssociationEnd.Disposed : Socks5AssociationEnd.ConnectionReset;
        }

        Finish(end);
    }

    /// <summary>Over TCP, the frame reader in place of the control loop: datagrams to their inboxes, lines as on a control connection.</summary>
    private async Task RunFrameLoopAsync()
    {
        var end = await _frames!.ReadAsync(this).ConfigureAwait(false);
        if (Volatile.Read(ref _disposed) != 0)
        {
            end = Socks5AssociationEnd.Disposed;
        }
        else if (end == Socks5AssociationEnd.ProtocolError)
        {
            // Nothing can be read on after a malformed frame: the proxy is told with a FIN, later sends fail.
            try
            {
                _control.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Reset meanwhile: ended either way.
            }
        }

        Finish(end);
    }

    /// <summary>The control connection ended: every waiter learns it, once.</summary>
    private void Finish(Socks5AssociationEnd end)
    {
        _noticesSupported.TrySetResult(false);
        _supportedCommands.TrySetResult(OfferedCommands.None);
        Volatile.Read(ref _pathProbe)?.TrySetResult(false);
        _commands.Close(end == Socks5AssociationEnd.Disposed
            ? () => new ObjectDisposedException(nameof(Socks5UdpAssociation))
            : () => new Socks5Exception(Socks5ErrorKind.AssociationClosed, $"The association ended ({end}) before the proxy answered."));
        _notices.Writer.TryComplete();
        _closed.TrySetResult(end);
    }

    /// <summary>Answers go to the command waiting for them, in order; everything else is a notice.</summary>
    private void OnLine(ReadOnlySpan<byte> line)
    {
        if (CommandAnswer.TryParse(line, out var answer) && _commands.TryComplete(answer))
        {
            return;
        }

        bool parsed = Notice.TryParse(line, out var notice);
        if (!_sawFirstLine)
        {
            _sawFirstLine = true;
            bool greeting = parsed && notice!.Verb == NoticeVerbs.Notices && notice.Fields.ContainsKey(NoticeKeys.Version);
            _noticesSupported.TrySetResult(greeting);
            _supportedCommands.TrySetResult(greeting ? notice!.Commands : OfferedCommands.None);
        }

        if (!parsed)
        {
            return;
        }

        if (Volatile.Read(ref _pathProbe) is { } probe && notice!.Destination == PathProbeText)
        {
            // The answer to CheckUdpPathAsync's probe is the library's own business, not a notice about the caller's traffic.
            probe.TrySetResult(true);
            return;
        }

        _notices.Writer.TryWrite(notice!);
    }

    // An over-long line is not NOTICES, so if it comes first the server does not speak notices.
    private void OnLineSkipped()
    {
        if (!_sawFirstLine)
        {
            _sawFirstLine = true;
            _noticesSupported.TrySetResult(false);
            _supportedCommands.TrySetResult(OfferedCommands.None);
        }
    }

    void IFrameSink.OnDatagram(ushort mapping, in SocksAddress source, ReadOnlySpan<byte> payload)
    {
        if (mapping == 0)
        {
            _inbox!.Post(payload, source);
        }
        else if (_mappings.TryGetValue(mapping, out var owner))
        {
            owner.Inbox.Post(payload, source);
        }
        else
        {
            Interlocked.Increment(ref _droppedDatagrams);
        }
    }

    void IFrameSink.OnLine(ReadOnlySpan<byte> line) => OnLine(line);

    void IFrameSink.OnLineSkipped() => OnLineSkipped();

    private enum Routed
    {
        Dropped,
        Posted,
        Own,
    }
}
