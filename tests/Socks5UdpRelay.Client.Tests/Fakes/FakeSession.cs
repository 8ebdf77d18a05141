using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests.Fakes;

/// <summary>
/// One accepted request of <see cref="FakeSocks5Server"/>: its control connection, and for UDP
/// ASSOCIATE the relay socket (client side) and per mapping one outbound socket per family.
/// It follows the README's rules where the client depends on them: datagrams only from the TCP
/// peer's address (and the port the request named, if it named the peer's address), RSV as the
/// mapping number, and, when the server offers commands, one answer per command line, in order.
/// </summary>
internal sealed class FakeSession : IAsyncDisposable
{
    private readonly List<Task> _loops = [];
    private readonly Dictionary<ushort, Outbound> _mappings = [];
    private readonly List<FakeSetting> _settings = [];
    private readonly List<string> _commandLines = [];
    private readonly Channel<string> _manualCommands = Channel.CreateUnbounded<string>();
    private readonly SemaphoreSlim _controlWriter = new(1, 1);
    private readonly FakeSocks5Server? _server;
    private readonly IPAddress? _peer;
    private Socket? _relay;
    private Socket? _destination;
    private IPEndPoint? _client;
    private ushort _nextMapping = 1;

    private FakeSession(Socket control)
    {
        Control = control;
    }

    private FakeSession(Socket control, IPEndPoint relay, FakeSocks5Server server, Socks5Endpoint requested)
        : this(control)
    {
        _server = server;
        Requested = requested;
        _peer = Unmap(((IPEndPoint)control.RemoteEndPoint!).Address);
        // The rule of the README's association rules: a named port counts when the named address is the peer's.
        if (requested.Address is { } named && Unmap(named).Equals(_peer) && requested.Port != 0)
        {
            _client = new IPEndPoint(_peer, requested.Port);
        }

        _mappings[0] = NewOutbound(0);
        OpenRelay(relay);
    }

    public Socket Control { get; }

    /// <summary>The relay's UDP endpoint (the real one, whatever the reply advertised).</summary>
    public IPEndPoint RelayEndPoint { get; private set; } = null!;

    /// <summary>DST.ADDR and DST.PORT of the UDP ASSOCIATE request: where the client said it would send from.</summary>
    public Socks5Endpoint? Requested { get; }

    /// <summary>Datagrams the relay refused because they came from another source than the association's client.</summary>
    public long ForeignDatagrams;

    /// <summary>Every command line read from the client, in order, without its <c>\n</c>.</summary>
    public IReadOnlyList<string> CommandLines
    {
        get
        {
            lock (_commandLines)
            {
                return [.. _commandLines];
            }
        }
    }

    /// <summary>The settings SET put in force.</summary>
    public IReadOnlyList<FakeSetting> Settings
    {
        get
        {
            lock (_settings)
            {
                return [.. _settings];
            }
        }
    }

    /// <summary>The mapping numbers held, 0 included.</summary>
    public IReadOnlyList<ushort> Mappings
    {
        get
        {
            lock (_mappings)
            {
                return [.. _mappings.Keys.Order()];
            }
        }
    }

    public static async Task<FakeSession> StartUdpAsync(Socket control, Socks5Endpoint requested, FakeSocks5Server server)
    {
        var local = (IPEndPoint)control.LocalEndPoint!;
        var session = new FakeSession(control, new IPEndPoint(local.Address, 0), server, requested);
        var bound = server.AdvertisedAddress ?? session.RelayEndPoint.Address;
        var reply = new byte[Socks5Reply.MaxLength];
        int length = Socks5Reply.Write(reply, ReplyCode.Succeeded, bound, (ushort)session.RelayEndPoint.Port);
        string[] lines = server.Commands == OfferedCommands.None
            ? server.NoticeLines
            : [$"NOTICES version=1 commands={OfferedCommandsFormat.ToWireValue(server.Commands)}", .. server.NoticeLines];
        // Reply and notices in one write: the client must not read past its reply.
        var text = Encoding.ASCII.GetBytes(string.Concat(lines.Select(l => l + "\n")));
        await control.SendAsync(reply.AsMemory(0, length).ToArray().Concat(text).ToArray());
        if (server.Commands != OfferedCommands.None)
        {
            session._loops.Add(Task.Run(session.CommandLoopAsync));
        }

        return session;
    }

    public static async Task<FakeSession> StartConnectAsync(Socket control, Socks5Endpoint target, byte[] dataAfterReply)
    {
        var address = target.Address ?? (target.Host == "localhost" ? IPAddress.Loopback : throw new InvalidOperationException("The fake resolves only localhost."));
        var destination = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await destination.ConnectAsync(new IPEndPoint(address, target.Port));
        var session = new FakeSession(control) { _destination = destination };
        var local = (IPEndPoint)destination.LocalEndPoint!;
        var reply = new byte[Socks5Reply.MaxLength];
        int length = Socks5Reply.Write(reply, ReplyCode.Succeeded, local.Address, (ushort)local.Port);
        await control.SendAsync(reply.AsMemory(0, length).ToArray().Concat(dataAfterReply).ToArray());
        session._loops.Add(Task.Run(() => PipeAsync(control, destination)));
        session._loops.Add(Task.Run(() => PipeAsync(destination, control)));
        return session;
    }

    /// <summary>Writes raw text on the control connection (whole, never between the bytes of an answer).</summary>
    public async Task WriteAsync(string text)
    {
        await _controlWriter.WaitAsync();
        try
        {
            await Control.SendAsync(Encoding.ASCII.GetBytes(text));
        }
        finally
        {
            _controlWriter.Release();
        }
    }

    /// <summary>With <see cref="FakeSocks5Server.ManualAnswers"/>: the next command line the client wrote, without its <c>\n</c>.</summary>
    public Task<string> NextCommandAsync() => _manualCommands.Reader.ReadAsync().AsTask().Within();

    /// <summary>The outbound endpoint of a mapping, as a destination sees it.</summary>
    public IPEndPoint OutboundEndPoint(ushort mapping, AddressFamily family)
    {
        lock (_mappings)
        {
            var outbound = _mappings[mapping];
            return (IPEndPoint)(family == AddressFamily.InterNetworkV6 ? outbound.V6 : outbound.V4).LocalEndPoint!;
        }
    }

    /// <summary>Closes the control connection in order (FIN).</summary>
    public void Close()
    {
        Control.Shutdown(SocketShutdown.Both);
        Control.Close();
    }

    /// <summary>Aborts the control connection (RST).</summary>
    public void Reset()
    {
        Control.LingerState = new LingerOption(true, 0);
        Control.Close();
    }

    /// <summary>Closes the relay socket, so datagrams to it draw ICMP port unreachable.</summary>
    public void CloseRelay() => _relay!.Dispose();

    /// <summary>Binds the relay again on the same port.</summary>
    public void ReopenRelay() => OpenRelay(RelayEndPoint);

    /// <summary>Sends a datagram, header and all, from the relay socket to <paramref name="client"/>.</summary>
    public async Task SendFromRelayAsync(IPEndPoint client, byte[] datagram) => await _relay!.SendToAsync(datagram, client);

    /// <summary>Builds an RFC 1928 §7 datagram with a name as its address.</summary>
    public static byte[] Datagram(string host, ushort port, byte[] payload, byte fragment = 0, ushort mapping = 0)
    {
        var buffer = new byte[UdpRequestHeader.MaxLength + payload.Length];
        byte[] name = Encoding.Latin1.GetBytes(host);
        int header = UdpRequestHeader.Write(buffer, new SocksAddress(AddressType.DomainName, name, port), mapping);
        buffer[2] = fragment;
        payload.CopyTo(buffer, header);
        return buffer[..(header + payload.Length)];
    }

    /// <summary>Builds an RFC 1928 §7 datagram with an IP address as its address.</summary>
    public static byte[] Datagram(IPEndPoint source, byte[] payload, byte fragment = 0, ushort mapping = 0)
    {
        var buffer = new byte[UdpRequestHeader.MaxLength + payload.Length];
        int header = UdpRequestHeader.Write(buffer, source.Address, (ushort)source.Port, mapping);
        buffer[2] = fragment;
        payload.CopyTo(buffer, header);
        return buffer[..(header + payload.Length)];
    }

    public async ValueTask DisposeAsync()
    {
        Control.Dispose();
        _relay?.Dispose();
        lock (_mappings)
        {
            foreach (var outbound in _mappings.Values)
            {
                outbound.Dispose();
            }
        }

        _destination?.Dispose();
        _manualCommands.Writer.TryComplete();
        Task[] loops;
        lock (_loops)
        {
            loops = [.. _loops];
        }

        await Task.WhenAll(loops);
    }

    private static IPAddress Unmap(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static Socket BindUdp(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(endPoint);
        return socket;
    }

    private Outbound NewOutbound(ushort number)
    {
        var outbound = new Outbound(number, BindUdp(new IPEndPoint(IPAddress.Loopback, 0)), BindUdp(new IPEndPoint(IPAddress.IPv6Loopback, 0)));
        lock (_loops)
        {
            _loops.Add(Task.Run(() => OutboundLoopAsync(outbound, outbound.V4)));
            _loops.Add(Task.Run(() => OutboundLoopAsync(outbound, outbound.V6)));
        }

        return outbound;
    }

    private void OpenRelay(IPEndPoint endPoint)
    {
        var relay = BindUdp(endPoint);
        _relay = relay;
        RelayEndPoint = (IPEndPoint)relay.LocalEndPoint!;
        lock (_loops)
        {
            _loops.Add(Task.Run(() => RelayLoopAsync(relay)));
        }
    }

    /// <summary>Client → destination: unwrap the header and send the payload from the mapping's outbound socket.</summary>
    private async Task RelayLoopAsync(Socket relay)
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(RelayEndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (true)
            {
                var received = await relay.ReceiveFromAsync(buffer, SocketFlags.None, any);
                var from = (IPEndPoint)received.RemoteEndPoint;
                if (!Accept(from))
                {
                    Interlocked.Increment(ref ForeignDatagrams);
                    continue;
                }

                if (!UdpRequestHeader.TryParse(buffer.AsSpan(0, received.ReceivedBytes), out ushort number, out _, out var destination, out int header))
                {
                    continue;
                }

                var target = FakeSocks5Server.Socks5EndpointOf(destination);
                var address = target.Address ?? (target.Host == "localhost" ? IPAddress.Loopback : null);
                Outbound? outbound;
                lock (_mappings)
                {
                    _mappings.TryGetValue(number, out outbound);
                }

                if (address is null || outbound is null)
                {
                    continue;
                }

                var socket = address.AddressFamily == AddressFamily.InterNetworkV6 ? outbound.V6 : outbound.V4;
                var to = new IPEndPoint(address, target.Port);
                if (Settings.LastOrDefault(s => s.Mapping == number && s.Destination.Equals(to)) is { } setting)
                {
                    socket.Ttl = (short)(setting.Ttl == ClientCommand.DefaultTtl ? 64 : setting.Ttl);
                }

                await socket.SendToAsync(buffer.AsMemory(header, received.ReceivedBytes - header), SocketFlags.None, to);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed by CloseRelay or dispose.
        }
    }

    private bool Accept(IPEndPoint from)
    {
        from = new IPEndPoint(Unmap(from.Address), from.Port);
        if (_client is { } client)
        {
            return client.Equals(from);
        }

        if (_peer is not null && !from.Address.Equals(_peer))
        {
            return false;
        }

        _client = from;
        return true;
    }

    /// <summary>Destination → client: wrap the reply in a header naming its source and the mapping.</summary>
    private async Task OutboundLoopAsync(Outbound outbound, Socket socket)
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer.AsMemory(UdpRequestHeader.MaxLength), SocketFlags.None, any);
                var source = (IPEndPoint)received.RemoteEndPoint;
                var datagram = Datagram(source, buffer.AsSpan(UdpRequestHeader.MaxLength, received.ReceivedBytes).ToArray(), mapping: outbound.Number);
                if (_client is { } client)
                {
                    await _relay!.SendToAsync(datagram, client);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Disposed, or unmapped.
        }
    }

    /// <summary>Reads command lines and answers each, in order, as the README says a server does.</summary>
    private async Task CommandLoopAsync()
    {
        var buffer = new byte[NoticeFormat.MaxLineLength];
        var framer = new ControlLineFramer();
        int have = 0;
        try
        {
            while (true)
            {
                int n = await Control.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None);
                if (n == 0)
                {
                    return;
                }

                have += n;
                while (true)
                {
                    var (status, line, consumed) = Frame(ref framer, buffer, have);
                    buffer.AsSpan(consumed, have - consumed).CopyTo(buffer);
                    have -= consumed;
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    await HandleLineAsync(status == OperationStatus.Done ? line : null);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client or the test closed the connection.
        }
    }

    private static (OperationStatus, byte[]?, int) Frame(ref ControlLineFramer framer, byte[] buffer, int have)
    {
        var status = framer.TryReadLine(buffer.AsSpan(0, have), out var line, out int consumed);
        return (status, status == OperationStatus.Done ? line.ToArray() : null, consumed);
    }

    /// <summary>One command line (null: one over 1024 bytes) and its answer.</summary>
    private async Task HandleLineAsync(byte[]? line)
    {
        string text = line is null ? "(too long)" : Encoding.Latin1.GetString(line).TrimEnd('\n');
        lock (_commandLines)
        {
            _commandLines.Add(text);
        }

        if (_server!.ManualAnswers)
        {
            await _manualCommands.Writer.WriteAsync(text);
            return;
        }

        var answer = new byte[NoticeFormat.MaxLineLength];
        int length = line is null ? CommandAnswerWriter.Malformed(answer) : Answer(line, answer);
        await WriteAsync(string.Concat(_server.NoticesBeforeEachAnswer.Select(l => l + "\n")) + Encoding.ASCII.GetString(answer, 0, length));
    }

    private int Answer(byte[] line, byte[] answer)
    {
        Span<byte> scratch = stackalloc byte[ClientCommandParser.ScratchLength];
        var status = ClientCommandParser.Parse(line, _server!.Commands, scratch, out var command);
        if (status != ClientCommandStatus.Valid)
        {
            return CommandAnswerWriter.Refusal(answer, status, command);
        }

        if (_server.RateLimited)
        {
            return CommandAnswerWriter.Failed(answer, command, CommandFailureReason.RateLimit);
        }

        lock (_mappings)
        {
            switch (command.Verb)
            {
                case ClientCommandVerb.Set:
                    return Set(answer, command);
                case ClientCommandVerb.Map:
                    if (_mappings.Count > _server.MaxMappings)
                    {
                        return CommandAnswerWriter.MapFailed(answer, CommandFailureReason.Limit);
                    }

                    var outbound = NewOutbound(_nextMapping++);
                    _mappings[outbound.Number] = outbound;
                    return CommandAnswerWriter.MapOk(answer, outbound.Number, (ushort)((IPEndPoint)outbound.V4.LocalEndPoint!).Port);
                default:
                    if (!_mappings.Remove(command.Mapping, out var gone))
                    {
                        return CommandAnswerWriter.Failed(answer, command, CommandFailureReason.Invalid);
                    }

                    gone.Dispose();
                    return CommandAnswerWriter.UnmapOk(answer, command.Mapping);
            }
        }
    }

    private int Set(byte[] answer, in ClientCommand command)
    {
        if (!_mappings.ContainsKey(command.Mapping))
        {
            return CommandAnswerWriter.Failed(answer, command, CommandFailureReason.Invalid);
        }

        var destination = FakeSocks5Server.Socks5EndpointOf(command.Destination);
        var address = destination.Address ?? (destination.Host == "localhost" ? IPAddress.Loopback : null);
        if (address is null)
        {
            return CommandAnswerWriter.SetFailed(answer, command.DestinationText, CommandFailureReason.Unresolved);
        }

        if (_server!.DeniedPorts.Contains(destination.Port))
        {
            return CommandAnswerWriter.SetFailed(answer, command.DestinationText, CommandFailureReason.Policy);
        }

        lock (_settings)
        {
            _settings.Add(new FakeSetting(command.Mapping, new IPEndPoint(address, destination.Port), command.Ttl));
        }

        return CommandAnswerWriter.SetOk(
            answer, command.DestinationText, destination.Host is null ? null : address, (ushort)destination.Port, command.Ttl, command.Mapping);
    }

    private static async Task PipeAsync(Socket from, Socket to)
    {
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n));
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // One side went away.
        }
    }

    /// <summary>A mapping's outbound sockets, one per family, as the relay's per-mapping port.</summary>
    private sealed record Outbound(ushort Number, Socket V4, Socket V6) : IDisposable
    {
        public void Dispose()
        {
            V4.Dispose();
            V6.Dispose();
        }
    }
}

/// <summary>A SET in force: datagrams of <paramref name="Mapping"/> to <paramref name="Destination"/> leave with <paramref name="Ttl"/> (0: default).</summary>
internal sealed record FakeSetting(ushort Mapping, IPEndPoint Destination, int Ttl);
