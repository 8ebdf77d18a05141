using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests.Fakes;

/// <summary>
/// A small SOCKS5 server on loopback port 0 for the client's tests, built on the protocol
/// library's codecs. It negotiates no-auth or username/password, answers UDP ASSOCIATE with a
/// relay that forwards to destinations and wraps replies, answers CONNECT by piping to the
/// destination, and can be told to misbehave. Every accepted request shows up in
/// <see cref="NextSessionAsync"/> so a test can drive the control connection and the relay.
/// </summary>
internal sealed class FakeSocks5Server : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Channel<FakeSession> _sessions = Channel.CreateUnbounded<FakeSession>();
    private readonly List<FakeSession> _all = [];
    private readonly List<Socket> _stalled = [];
    private readonly Task _acceptLoop;

    public FakeSocks5Server(IPAddress address)
    {
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(address, 0));
        _listener.Listen();
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>When set, only RFC 1929 with these credentials is accepted.</summary>
    public NetworkCredential? RequiredCredentials { get; init; }

    /// <summary>The REP to answer requests with; anything but success closes after the reply.</summary>
    public ReplyCode Reply { get; init; } = ReplyCode.Succeeded;

    /// <summary>Answer the request with bytes that are not SOCKS5 (VER 4).</summary>
    public bool MalformedReply { get; init; }

    /// <summary>Read the greeting and never answer it.</summary>
    public bool NeverAnswer { get; init; }

    /// <summary>BND.ADDR of the UDP ASSOCIATE reply instead of the relay's own address (e.g. 0.0.0.0).</summary>
    public IPAddress? AdvertisedAddress { get; init; }

    /// <summary>Lines written on the control connection in the same write as the successful reply (after the greeting, when <see cref="Commands"/> writes one).</summary>
    public string[] NoticeLines { get; init; } = [];

    /// <summary>
    /// Commands offered: when not none, the reply is followed by <c>NOTICES version=1 commands=…</c>
    /// and every command line is answered as the README says (or handed to the test, with <see cref="ManualAnswers"/>).
    /// </summary>
    public OfferedCommands Commands { get; init; }

    /// <summary>Command lines are not answered but handed to <see cref="FakeSession.NextCommandAsync"/>; the test writes the answers.</summary>
    public bool ManualAnswers { get; init; }

    /// <summary>Notice lines written, in the same write, before every answer.</summary>
    public string[] NoticesBeforeEachAnswer { get; init; } = [];

    /// <summary>Every valid command is refused with <c>reason=rate-limit</c>.</summary>
    public bool RateLimited { get; init; }

    /// <summary>How many mappings besides the first MAP may make; one more is <c>MAP-FAILED reason=limit</c>.</summary>
    public int MaxMappings { get; init; } = 8;

    /// <summary>Destination ports SET refuses with <c>reason=policy</c>.</summary>
    public int[] DeniedPorts { get; init; } = [];

    /// <summary>
    /// Takes <c>CMD=0x05</c> (UDP over TCP) after the method negotiation: it gets the connection and
    /// the request's DST, writes the reply and the frames itself, and the server closes the
    /// connection when it is disposed. Without it, <c>CMD=0x05</c> is answered 0x07.
    /// </summary>
    public Func<Socket, Socks5Endpoint, Task>? UdpOverTcpScript { get; init; }

    /// <summary>Bytes written in the same write as a successful CONNECT reply, as if from the destination.</summary>
    public byte[] DataAfterConnectReply { get; init; } = [];

    public Socks5ProxyOptions Options(NetworkCredential? credentials = null, TimeSpan? handshakeTimeout = null) => new()
    {
        Host = EndPoint.Address.ToString(),
        Port = EndPoint.Port,
        Credentials = credentials,
        ConnectTimeout = TestTimeout.Default,
        HandshakeTimeout = handshakeTimeout ?? TestTimeout.Default,
    };

    /// <summary>The next session that got a successful reply.</summary>
    public Task<FakeSession> NextSessionAsync() => _sessions.Reader.ReadAsync().AsTask().Within();

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _acceptLoop;
        FakeSession[] sessions;
        lock (_all)
        {
            sessions = [.. _all];
            foreach (var socket in _stalled)
            {
                socket.Dispose();
            }
        }

        foreach (var session in sessions)
        {
            await session.DisposeAsync();
        }
    }

    private async Task AcceptLoopAsync()
    {
        var handlers = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptAsync();
                handlers.Add(Task.Run(() => HandleAsync(client)));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The listener was disposed.
        }

        await Task.WhenAll(handlers);
    }

    private async Task HandleAsync(Socket client)
    {
        var reader = new MessageReader(client);
        bool keep = false;
        try
        {
            await reader.ReadAsync(static (ReadOnlySpan<byte> s, out int c) => MethodSelection.TryReadGreeting(s, out _, out c));
            if (NeverAnswer)
            {
                lock (_all)
                {
                    _stalled.Add(client);
                }

                keep = true;
                return;
            }

            MethodSelection.TryReadGreeting(reader.Message, out var methods, out _);
            var wanted = RequiredCredentials is null ? AuthMethod.NoAuthentication : AuthMethod.UsernamePassword;
            var chosen = methods.Contains((byte)wanted) ? wanted : AuthMethod.NoAcceptableMethods;
            await SendAsync(client, b => MethodSelection.WriteReply(b, chosen));
            if (chosen == AuthMethod.NoAcceptableMethods)
            {
                return;
            }

            if (chosen == AuthMethod.UsernamePassword)
            {
                await reader.ReadAsync(static (ReadOnlySpan<byte> s, out int c) => UsernamePasswordAuth.TryReadRequest(s, out _, out _, out c));
                UsernamePasswordAuth.TryReadRequest(reader.Message, out var user, out var password, out _);
                bool ok = user.SequenceEqual(Encoding.UTF8.GetBytes(RequiredCredentials!.UserName))
                    && password.SequenceEqual(Encoding.UTF8.GetBytes(RequiredCredentials.Password));
                await SendAsync(client, b => UsernamePasswordAuth.WriteReply(b, ok ? UsernamePasswordAuth.StatusSuccess : UsernamePasswordAuth.StatusFailure));
                if (!ok)
                {
                    return;
                }
            }

            await reader.ReadAsync(static (ReadOnlySpan<byte> s, out int c) => Socks5Request.TryRead(s, out _, out _, out c));
            Socks5Request.TryRead(reader.Message, out var command, out var destination, out _);
            var target = Socks5EndpointOf(destination);
            if (MalformedReply)
            {
                await client.SendAsync(new byte[] { 0x04, 0x5A, 0, 0, 0, 0, 0, 0 });
                return;
            }

            if (Reply != ReplyCode.Succeeded)
            {
                await SendAsync(client, b => Socks5Reply.WriteFailure(b, Reply));
                return;
            }

            if (command == Socks5Command.UdpOverTcp && UdpOverTcpScript is { } script)
            {
                lock (_all)
                {
                    _stalled.Add(client);
                }

                keep = true;
                await script(client, target);
                return;
            }

            var session = command switch
            {
                Socks5Command.UdpAssociate => await FakeSession.StartUdpAsync(client, target, this),
                Socks5Command.Connect => await FakeSession.StartConnectAsync(client, target, DataAfterConnectReply),
                _ => null,
            };
            if (session is null)
            {
                await SendAsync(client, b => Socks5Reply.WriteFailure(b, ReplyCode.CommandNotSupported));
                return;
            }

            lock (_all)
            {
                _all.Add(session);
            }

            keep = true;
            await _sessions.Writer.WriteAsync(session);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or EndOfStreamException)
        {
            // The client went away mid-handshake; tests that care see it from the client side.
        }
        finally
        {
            if (!keep)
            {
                client.Dispose();
            }
        }
    }

    internal static Socks5Endpoint Socks5EndpointOf(in SocksAddress address) => address.Type == AddressType.DomainName
        ? new Socks5Endpoint(address.GetHostName(), address.Port)
        : new Socks5Endpoint(address.ToIPAddress(), address.Port);

    internal delegate int Writer(Span<byte> buffer);

    internal static async Task SendAsync(Socket socket, Writer write)
    {
        var buffer = new byte[Socks5Reply.MaxLength];
        int length = write(buffer);
        await socket.SendAsync(buffer.AsMemory(0, length));
    }

    /// <summary>Reads whole handshake messages with the codecs' "need more data" answers.</summary>
    private sealed class MessageReader(Socket socket)
    {
        private readonly byte[] _buffer = new byte[UsernamePasswordAuth.MaxRequestLength];
        private int _count;
        private int _messageLength;

        public delegate OperationStatus Probe(ReadOnlySpan<byte> source, out int consumed);

        public ReadOnlySpan<byte> Message => _buffer.AsSpan(0, _messageLength);

        public async Task ReadAsync(Probe probe)
        {
            // Drop the previous message; a client sends the next one only after our answer.
            _buffer.AsSpan(_messageLength, _count - _messageLength).CopyTo(_buffer);
            _count -= _messageLength;
            _messageLength = 0;
            while (true)
            {
                var status = probe(_buffer.AsSpan(0, _count), out int consumed);
                if (status == OperationStatus.Done)
                {
                    _messageLength = consumed;
                    return;
                }

                if (status == OperationStatus.InvalidData)
                {
                    throw new EndOfStreamException("Malformed client message.");
                }

                int n = await socket.ReceiveAsync(_buffer.AsMemory(_count), SocketFlags.None);
                if (n == 0)
                {
                    throw new EndOfStreamException("The client closed mid-handshake.");
                }

                _count += n;
            }
        }
    }
}
