using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Cli.Doctor;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Gateway.Plane;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>
/// One SOCKS5 UDP association of the gateway: the control connection (commands out, answers and
/// notices in) and a UDP socket connected to the relay, read by a thread of its own that hands each
/// datagram to its mapping's flow by RSV (the README, "Client commands"). Unlike the client
/// library's association, which gives each mapping an inbox and a reader of its own, one loop
/// serves every mapping and writes straight into the device: no copy, no task and no allocation
/// per datagram, and one thread wake-up per reply. Sends are synchronous on whichever thread has
/// the datagram (the gateway's reader, or a flow's queue), which a UDP socket allows.
/// </summary>
/// <remarks>
/// Over TCP (<see cref="Socks5UdpTransport.Tcp"/>, the README's "UDP over TCP" with the opt-in to
/// notices and commands) the one connection carries everything as frames: datagrams (a mapped
/// frame for a mapping other than 0), commands and their answers, notices. One reader task hands
/// each frame on as it comes, replies straight into the device as over UDP. A send writes its frame
/// whole before it returns, as TCP lets it: a proxy that reads slowly slows the gateway's reader,
/// and one that reads nothing for <see cref="UplinkSettings.SendStall"/> ends the association.
/// </remarks>
internal sealed class UplinkAssociation : IAsyncDisposable, IFrameSink
{
    /// <summary>RSV, FRAG, ATYP, an IPv6 address and a port: the longest header the gateway writes (it never sends names).</summary>
    public const int MaxHeaderLength = UdpRequestHeader.IPv6Length;

    /// <summary>
    /// Where a payload handed to <see cref="Send(ushort, in FlowKey, byte[], int, int)"/> lies: room for
    /// the longest SOCKS header, and in front of it for a mapped frame's longer header, so over TCP
    /// the datagram becomes its frame in place.
    /// </summary>
    public const int PayloadOffset = UdpOverTcpConnection.FrameRoom + MaxHeaderLength;

    /// <summary>The largest datagram the relay socket reads: a 16-bit length.</summary>
    private const int ReceiveBufferLength = 65_535;

    private readonly Socket _control;
    private readonly Socket? _udp;
    private readonly UdpOverTcpConnection? _frames;
    private readonly TimeSpan _sendStall;
    private readonly IAssociationEvents _events;
    private readonly CommandChannel _commands;
    private readonly ControlLineFeed? _lines;
    private readonly ConcurrentDictionary<ushort, UplinkMapping> _mappings = new();
    private readonly TaskCompletionSource<Notice?> _greeting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread? _receiver;
    private readonly List<Task> _background = [];
    private Task _controlLoop = Task.CompletedTask;
    private string? _stalled;
    private bool _sawFirstLine;
    private volatile bool _usesMappings;
    private int _disposed;
    private int _ended;
    private long _droppedDatagrams;
    private long _ignoredSocketErrors;

    private UplinkAssociation(int id, Socket control, Socket? udp, UdpOverTcpConnection? frames, IPEndPoint relay, TimeSpan sendStall, IAssociationEvents events)
    {
        Id = id;
        _control = control;
        _udp = udp;
        _frames = frames;
        _sendStall = sendStall;
        Relay = relay;
        _events = events;
        if (frames is null)
        {
            _lines = new ControlLineFeed(OnLine, OnLineSkipped);
            _commands = new CommandChannel(control);
            _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = $"s5nc tun association {id}" };
            return;
        }

        _commands = new CommandChannel(frames.SendLineAsync);
        if (!frames.OptedIn)
        {
            // The reply did not name the opt-in (a hev-socks5 server): datagram frames only, no greeting to wait for.
            _sawFirstLine = true;
            _greeting.TrySetResult(null);
        }
    }

    /// <summary>A number for logs, in the order associations were opened.</summary>
    public int Id { get; }

    /// <summary>The relay's UDP endpoint; over TCP, the proxy's endpoint, where the frames go.</summary>
    public IPEndPoint Relay { get; }

    /// <summary>The first line, when it is the <c>NOTICES</c> greeting; null when another line or the end of the connection came first.</summary>
    public Task<Notice?> Greeting => _greeting.Task;

    /// <summary>Mappings attached to it (made by <c>MAP</c>, or its first one), in use or waiting in the pool.</summary>
    public int MappingCount => _mappings.Count;

    /// <summary>Datagrams from the relay dropped: a malformed header, FRAG ≠ 0, a name as source, or a mapping it no longer holds.</summary>
    public long DroppedDatagrams => Interlocked.Read(ref _droppedDatagrams);

    /// <summary>ICMP-reported errors on the relay-facing socket (the relay gone, or fake ones from a proxy such as Dante), ignored.</summary>
    public long IgnoredSocketErrors => Interlocked.Read(ref _ignoredSocketErrors);

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Connects and asks for UDP ASSOCIATE naming a UDP socket bound beside the control connection
    /// (as the client library does, so the proxy takes datagrams from that socket alone), then
    /// starts the receive thread and the control loop. Over TCP (<see cref="UplinkSettings.Transport"/>):
    /// <c>CMD=0x05</c> with the opt-in to notices and commands, then the frame reader.
    /// </summary>
    /// <exception cref="Socks5Exception">
    /// The proxy could not be reached, refused, or broke the protocol; over TCP, a proxy without it
    /// answers REP 7 (<see cref="UdpOverTcpConnection.NotOffered"/>).
    /// </exception>
    public static async Task<UplinkAssociation> OpenAsync(int id, Socks5ProxyOptions options, UplinkSettings settings, IAssociationEvents events, CancellationToken cancellationToken)
    {
        if (settings.Transport == Socks5UdpTransport.Tcp)
        {
            var frames = await UdpOverTcpConnection.OpenAsync(options, cancellationToken).ConfigureAwait(false);
            var overTcp = new UplinkAssociation(id, frames.Socket, null, frames, frames.RemoteEndPoint, settings.SendStall, events);
            overTcp.Start();
            return overTcp;
        }

        Socket? udp = null;
        Socket? control = null;
        try
        {
            (control, var bound) = await Socks5Handshake.EstablishAsync(options, Socks5Command.UdpAssociate, connected =>
            {
                var local = Unmap(((IPEndPoint)connected.LocalEndPoint!).Address);
                udp = Socks5Handshake.CreateSocket(options, local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(local, 0));
                return new Socks5Endpoint(local, ((IPEndPoint)udp.LocalEndPoint!).Port);
            }, cancellationToken).ConfigureAwait(false);

            var proxy = Unmap(((IPEndPoint)control.RemoteEndPoint!).Address);
            // RFC 1928 leaves "BND 0.0.0.0" undefined; servers mean "the address you reached me at".
            var address = bound.Address is { } a && !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.IPv6Any) ? Unmap(a) : proxy;
            if (bound.Host is not null || bound.Port == 0 || address.AddressFamily != udp!.AddressFamily)
            {
                throw new Socks5Exception(Socks5ErrorKind.ProtocolError, $"The proxy's UDP ASSOCIATE reply names {bound}, which the gateway cannot send to from {udp!.LocalEndPoint}.");
            }

            var relay = new IPEndPoint(address, bound.Port);
            udp.Connect(relay);
            var association = new UplinkAssociation(id, control, udp, null, relay, settings.SendStall, events);
            association.Start();
            return association;
        }
        catch (Exception e)
        {
            control?.Dispose();
            udp?.Dispose();
            if (e is SocketException socket)
            {
                // On our side of the handshake: binding or connecting the UDP socket.
                throw new Socks5Exception(Socks5ErrorKind.ProxyUnreachable, $"Could not open a UDP socket towards the proxy's relay: {socket.Message}", socket);
            }

            throw;
        }
    }

    /// <summary>Its first mapping, as the one flow of an association of its own (a proxy without <c>MAP</c>).</summary>
    public UplinkMapping AttachFirstMapping()
    {
        var mapping = new UplinkMapping(this, 0, 0, ownsAssociation: true);
        _mappings[0] = mapping;
        return mapping;
    }

    /// <summary><c>MAP</c>: a new mapping, attached once the proxy answers.</summary>
    /// <exception cref="Socks5CommandException"><c>MAP-FAILED</c> (limit, rate-limit).</exception>
    /// <exception cref="Socks5Exception">The association ended first.</exception>
    public async Task<UplinkMapping> MapAsync()
    {
        var answer = await Command(CommandVerbs.Map, static b => ClientCommandWriter.WriteMap(b)).ConfigureAwait(false);
        if (answer.Mapping is not { } number || number == 0 || answer.Port is not { } port)
        {
            throw new Socks5Exception(Socks5ErrorKind.ProtocolError, $"The proxy's MAP-OK names no usable mapping and port: '{answer.Line}'.");
        }

        // From the first MAP on, the proxy reads RSV as the mapping, and so does the receive loop.
        _usesMappings = true;
        var mapping = new UplinkMapping(this, number, port, ownsAssociation: false);
        _mappings[number] = mapping;

        // The answer can come right before the end of the connection, and this continuation run after
        // the owner was told of the end and took the mappings then held: this one it never saw.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _ended) != 0)
        {
            _mappings.TryRemove(new KeyValuePair<ushort, UplinkMapping>(number, mapping));
            throw new Socks5Exception(Socks5ErrorKind.AssociationClosed, $"{this} ended right after the proxy answered MAP.");
        }

        return mapping;
    }

    /// <summary><c>SET dst=… ttl=N map=M</c> (<paramref name="ttl"/> 0: <c>ttl=default</c>); completes once it is in force.</summary>
    /// <exception cref="Socks5CommandException"><c>SET-FAILED</c>.</exception>
    /// <exception cref="Socks5Exception">The association ended first.</exception>
    public Task<CommandAnswer> SetTtlAsync(ushort mapping, FlowKey destination, byte ttl) =>
        Command(CommandVerbs.Set, b =>
        {
            Span<byte> address = stackalloc byte[16];
            int length = destination.WriteAddress(address);
            var wire = new SocksAddress(destination.IsIPv6 ? AddressType.IPv6 : AddressType.IPv4, address[..length], destination.Port);
            return ClientCommandWriter.WriteSet(b, wire, ttl == 0 ? ClientCommand.DefaultTtl : ttl, mapping);
        });

    /// <summary>
    /// Detaches <paramref name="mapping"/> at once and sends <c>UNMAP</c> without waiting: its
    /// datagrams in flight are dropped, which is what a NAT does with a mapping it let go.
    /// </summary>
    public void Unmap(UplinkMapping mapping, Action<Exception> onFailure)
    {
        _mappings.TryRemove(new KeyValuePair<ushort, UplinkMapping>(mapping.Number, mapping));
        if (mapping.Number == 0 || IsDisposed)
        {
            return;
        }

        var task = UnmapAsync(mapping.Number, onFailure);
        lock (_background)
        {
            _background.RemoveAll(t => t.IsCompleted);
            _background.Add(task);
        }
    }

    /// <summary>The mapping a notice's <c>map=</c> names (any number means the first mapping until the first MAP).</summary>
    public UplinkMapping? Find(ushort number) => _mappings.GetValueOrDefault(_usesMappings ? number : (ushort)0);

    /// <summary>Forgets a mapping the proxy closed by itself (<c>MAP-CLOSED</c>); returns it, or null when not held.</summary>
    public UplinkMapping? Detach(ushort number) => _mappings.TryRemove(number, out var mapping) ? mapping : null;

    /// <summary>Every mapping still attached (for the end of the association).</summary>
    public IReadOnlyCollection<UplinkMapping> Mappings => [.. _mappings.Values];

    /// <summary>
    /// Writes the SOCKS header for <paramref name="destination"/> and <paramref name="mapping"/> right
    /// before <paramref name="payloadOffset"/> (at least <see cref="PayloadOffset"/>) in
    /// <paramref name="buffer"/> and sends header and payload; over TCP as its frame, made in place.
    /// False when it could not be sent.
    /// </summary>
    public bool Send(ushort mapping, in FlowKey destination, byte[] buffer, int payloadOffset, int payloadLength)
    {
        Span<byte> address = stackalloc byte[16];
        int length = destination.WriteAddress(address);
        var wire = new SocksAddress(destination.IsIPv6 ? AddressType.IPv6 : AddressType.IPv4, address[..length], destination.Port);
        int headerLength = UdpRequestHeader.GetLength(wire);
        int start = payloadOffset - headerLength;
        UdpRequestHeader.Write(buffer.AsSpan(start), wire, mapping);
        return _frames is null
            ? SendOverUdp(buffer.AsSpan(start, headerLength + payloadLength))
            : SendOverTcp(buffer, start - UdpOverTcpConnection.FrameRoom, headerLength + payloadLength);
    }

    /// <summary>Sends one datagram (header included) on the relay-facing socket; false when the socket refused it.</summary>
    private bool SendOverUdp(ReadOnlySpan<byte> datagram)
    {
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                _udp!.Send(datagram);
                return true;
            }
            catch (SocketException e) when (SocketErrors.IsIcmpReported(e.SocketErrorCode))
            {
                // The send only surfaced an error the kernel kept from an earlier datagram; this one was not sent.
                Interlocked.Increment(ref _ignoredSocketErrors);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>
    /// Sends one datagram as its frame (<paramref name="start"/>: the spare bytes in front of it) and
    /// returns once the frame is written, which is at once unless TCP holds it back: the caller reuses
    /// the buffer. A frame still not written after <see cref="UplinkSettings.SendStall"/> means a
    /// proxy that stopped reading: the connection is closed, which ends the association (its
    /// mappings move on) and the write with it.
    /// </summary>
    private bool SendOverTcp(byte[] buffer, int start, int datagramLength)
    {
        ValueTask sending;
        try
        {
            sending = _frames!.SendDatagramAsync(buffer.AsMemory(start), datagramLength, CancellationToken.None);
            if (sending.IsCompleted)
            {
                sending.GetAwaiter().GetResult();
                return true;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }

        var pending = sending.AsTask();
        try
        {
            if (pending.Wait(_sendStall))
            {
                return true;
            }
        }
        catch (AggregateException e) when (e.InnerException is SocketException or ObjectDisposedException)
        {
            return false;
        }

        Interlocked.CompareExchange(ref _stalled, string.Create(CultureInfo.InvariantCulture, $"the proxy read no frame for {_sendStall.TotalSeconds:0.###} s"), null);
        _control.Dispose();
        try
        {
            // The write fails at once now; it must end before the caller reuses the buffer.
            pending.Wait(_sendStall);
        }
        catch (AggregateException)
        {
            // The failure closing the connection caused.
        }

        return false;
    }

    /// <summary>Ends the association at the proxy (closing the control connection ends every mapping with it) and stops its loops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (var socket in new[] { _control, _udp })
            {
                try
                {
                    // An orderly FIN for the proxy; for the UDP socket, the way to wake a blocked receive.
                    socket?.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // Already reset or closed (over TCP: by a stalled send).
                }
            }

            _control.Dispose();
            _udp?.Dispose();
        }

        if (_receiver is { IsAlive: true } && _receiver != Thread.CurrentThread)
        {
            await Task.Run(() => _receiver.Join()).ConfigureAwait(false);
        }

        await _controlLoop.ConfigureAwait(false);
        Task[] background;
        lock (_background)
        {
            background = [.. _background];
        }

        await Task.WhenAll(background).ConfigureAwait(false);
    }

    public override string ToString() => _frames is null ? $"association {Id} (relay {Relay})" : $"association {Id} (over TCP to {Relay})";

    private static IPAddress Unmap(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private void Start()
    {
        if (_frames is not null)
        {
            _controlLoop = Task.Run(RunFrameLoopAsync);
            return;
        }

        _receiver!.Start();
        _controlLoop = Task.Run(RunControlLoopAsync);
    }

    private async Task<CommandAnswer> Command(string verb, CommandChannel.LineWriter write)
    {
        var answer = await (await _commands.SendAsync(verb, write, CancellationToken.None).ConfigureAwait(false)).ConfigureAwait(false);
        return answer.Succeeded ? answer : throw new Socks5CommandException(verb, answer);
    }

    private async Task UnmapAsync(ushort number, Action<Exception> onFailure)
    {
        try
        {
            await Command(CommandVerbs.Unmap, b => ClientCommandWriter.WriteUnmap(b, number)).ConfigureAwait(false);
        }
        catch (Socks5CommandException e) when (e.Reason == CommandFailureReason.Invalid)
        {
            // The proxy no longer held it (closed idle just before): released either way.
        }
        catch (Exception e) when (e is Socks5CommandException or Socks5Exception or ObjectDisposedException)
        {
            onFailure(e);
        }
    }

    private void ReceiveLoop()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferLength, pinned: true);
        while (!IsDisposed)
        {
            int received;
            try
            {
                received = _udp!.Receive(buffer);
            }
            catch (SocketException e) when (SocketErrors.IsIcmpReported(e.SocketErrorCode) && !IsDisposed)
            {
                Interlocked.Increment(ref _ignoredSocketErrors);
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            if (received == 0 && IsDisposed)
            {
                return; // shut down
            }

            var datagram = buffer.AsSpan(0, received);
            if (!UdpRequestHeader.TryParse(datagram, out ushort number, out byte fragment, out var source, out int headerLength)
                || fragment != 0
                || source.Type == AddressType.DomainName
                || !_mappings.TryGetValue(_usesMappings ? number : (ushort)0, out var mapping))
            {
                Interlocked.Increment(ref _droppedDatagrams);
                continue;
            }

            _events.OnReply(mapping, source.AddressBytes, source.Port, datagram[headerLength..]);
        }
    }

    private async Task RunControlLoopAsync()
    {
        byte[] buffer = new byte[4 * NoticeFormat.MaxLineLength];
        string reason;
        try
        {
            while (true)
            {
                int received = await _control.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    reason = "the proxy closed the control connection";
                    break;
                }

                _lines!.Feed(buffer.AsSpan(0, received));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            reason = e.Message;
        }

        Ended(reason);
    }

    /// <summary>Over TCP: every frame handed on as it comes, until the connection ends.</summary>
    private async Task RunFrameLoopAsync()
    {
        var end = await _frames!.ReadAsync(this).ConfigureAwait(false);
        Ended(Volatile.Read(ref _stalled) ?? end switch
        {
            Socks5AssociationEnd.ServerClosed => "the proxy closed the connection",
            Socks5AssociationEnd.ProtocolError => "the proxy sent a malformed frame",
            _ => "the connection was reset",
        });
    }

    private void Ended(string reason)
    {
        Interlocked.Exchange(ref _ended, 1); // before the owner takes the mappings (MapAsync)
        _greeting.TrySetResult(null);
        _commands.Close(() => new Socks5Exception(Socks5ErrorKind.AssociationClosed, $"{this} ended before the proxy answered."));
        if (!IsDisposed)
        {
            _events.OnClosed(this, reason);
        }
    }

    /// <summary>A datagram frame: to its mapping's flow, as a datagram from the relay socket is.</summary>
    void IFrameSink.OnDatagram(ushort mapping, in SocksAddress source, ReadOnlySpan<byte> payload)
    {
        if (source.Type == AddressType.DomainName || !_mappings.TryGetValue(_usesMappings ? mapping : (ushort)0, out var owner))
        {
            Interlocked.Increment(ref _droppedDatagrams);
            return;
        }

        _events.OnReply(owner, source.AddressBytes, source.Port, payload);
    }

    void IFrameSink.OnLine(ReadOnlySpan<byte> line) => OnLine(line);

    void IFrameSink.OnLineSkipped() => OnLineSkipped();

    /// <summary>Answers go to the command waiting for them, in order; everything else is a notice.</summary>
    private void OnLine(ReadOnlySpan<byte> line)
    {
        if (CommandAnswer.TryParse(line, out var answer) && _commands.TryComplete(answer))
        {
            return;
        }

        if (!Notice.TryParse(line, out var notice))
        {
            OnLineSkipped();
            return;
        }

        if (!_sawFirstLine)
        {
            _sawFirstLine = true;
            _greeting.TrySetResult(notice.Verb == NoticeVerbs.Notices && notice.Version is not null ? notice : null);
        }

        _events.OnNotice(this, notice);
    }

    private void OnLineSkipped()
    {
        if (!_sawFirstLine)
        {
            _sawFirstLine = true;
            _greeting.TrySetResult(null);
        }
    }
}
