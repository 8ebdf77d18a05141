using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Udp;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// One client's TCP control connection: method negotiation, the request, then the command it
/// asked for. Owns the connection and whatever the command opened; everything is closed when
/// <see cref="RunAsync"/> returns.
/// </summary>
internal sealed class ControlSession
{
    private static readonly TimeSpan NoticeFlushTime = TimeSpan.FromSeconds(2);
    private const int NoticeSendBuffer = 16 * 1024;

    /// <summary>What clients send on an association's control connection is read and thrown away; one buffer serves every connection.</summary>
    private static readonly byte[] DiscardBuffer = new byte[256];
    private readonly Socket _socket;
    private readonly SessionContext _context;
    private readonly IPEndPoint _peer;
    private readonly HandshakeBuffer _input = new();

    public ControlSession(Socket socket, SessionContext context)
    {
        _socket = socket;
        _context = context;
        _peer = SessionContext.Normalize(socket.RemoteEndPoint);
    }

    private RelayContext Relay => _context.Relay;

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            var request = await HandshakeAsync(stopping).ConfigureAwait(false);
            if (request is null)
            {
                return;
            }

            // Bytes a client sent ahead of our reply: CONNECT passes them on; on an association's control connection they mean nothing.
            byte[] early = _input.Release();
            switch (request.Value.Command)
            {
                case Socks5Command.UdpAssociate:
                    await AssociateAsync(request.Value, stopping).ConfigureAwait(false);
                    break;
                case Socks5Command.Connect:
                    await new ConnectRelay(_socket, Relay, _peer).RunAsync(request.Value.Destination, early, stopping).ConfigureAwait(false);
                    break;
                default:
                    Log.CommandNotSupported(Relay.Logger, _peer, (int)request.Value.Command);
                    ReplyFailure(ReplyCode.CommandNotSupported);
                    break;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or the server is stopping: nothing to tell anyone.
        }
        catch (Exception e)
        {
            Log.SessionFailed(Relay.Logger, e, _peer);
        }
        finally
        {
            _socket.Dispose();
        }
    }

    /// <summary>Negotiates a method and reads the request within the handshake deadline; null when the session ends there.</summary>
    private async Task<ParsedRequest?> HandshakeAsync(CancellationToken stopping)
    {
        // The deadline runs on the injected clock, so tests drive it without waiting.
        using var timeout = new CancellationTokenSource(Relay.Options.HandshakeTimeout, Relay.Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
        try
        {
            ReadOnlyMemory<byte> methods;
            while (true)
            {
                var status = MethodSelection.TryReadGreeting(_input.Data, out var offered, out int consumed);
                if (status == OperationStatus.Done)
                {
                    methods = offered.ToArray();
                    _input.Consume(consumed);
                    break;
                }

                if (status == OperationStatus.InvalidData || !await _input.ReadMoreAsync(_socket, deadline.Token).ConfigureAwait(false))
                {
                    LogMalformedIf(status == OperationStatus.InvalidData || _input.Data.Length > 0, "greeting");
                    return null;
                }
            }

            var method = _context.Users.RequiresAuthentication ? AuthMethod.UsernamePassword : AuthMethod.NoAuthentication;
            if (!methods.Span.Contains((byte)method))
            {
                Log.NoAcceptableMethod(Relay.Logger, _peer);
                Send(static (b, _) => MethodSelection.WriteReply(b, AuthMethod.NoAcceptableMethods), 0);
                return null;
            }

            Send(static (b, m) => MethodSelection.WriteReply(b, m), method);
            if (method == AuthMethod.UsernamePassword && !await AuthenticateAsync(deadline.Token).ConfigureAwait(false))
            {
                return null;
            }

            while (true)
            {
                var status = ParseRequest(out var request, out var invalidReply);
                if (status == OperationStatus.Done)
                {
                    return request;
                }

                if (status == OperationStatus.InvalidData)
                {
                    Log.HandshakeMalformed(Relay.Logger, _peer, "request");
                    ReplyFailure(invalidReply);
                    return null;
                }

                if (!await _input.ReadMoreAsync(_socket, deadline.Token).ConfigureAwait(false))
                {
                    LogMalformedIf(_input.Data.Length > 0, "request");
                    return null;
                }
            }
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            Log.HandshakeTimedOut(Relay.Logger, _peer, Relay.Options.HandshakeTimeout);
            return null;
        }
    }

    /// <summary>RFC 1929: reads the credentials and answers; a failure is answered only after a delay, then the connection closes.</summary>
    private async Task<bool> AuthenticateAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var (status, user) = await VerifyCredentialsAsync().ConfigureAwait(false);
            if (status == OperationStatus.Done && user is not null)
            {
                Send(static (b, _) => UsernamePasswordAuth.WriteReply(b, UsernamePasswordAuth.StatusSuccess), 0);
                Log.Authenticated(Relay.Logger, _peer, user);
                return true;
            }

            if (status == OperationStatus.Done || status == OperationStatus.InvalidData)
            {
                Log.AuthenticationFailed(Relay.Logger, _peer, status == OperationStatus.Done ? "wrong user name or password" : "malformed request");
                Relay.Metrics.RecordAuthFailure();
                await Task.Delay(_context.Users.FailureDelay, Relay.Time, cancellationToken).ConfigureAwait(false);
                Send(static (b, _) => UsernamePasswordAuth.WriteReply(b, UsernamePasswordAuth.StatusFailure), 0);
                return false;
            }

            if (!await _input.ReadMoreAsync(_socket, cancellationToken).ConfigureAwait(false))
            {
                LogMalformedIf(_input.Data.Length > 0, "authentication");
                return false;
            }
        }
    }

    /// <summary>
    /// Done with a user name on success, Done with null on a wrong password. The key derivation
    /// takes a good part of a millisecond and more: it runs on the thread pool, never on the
    /// socket engine's thread that carries every relay's datagrams.
    /// </summary>
    private async Task<(OperationStatus Status, string? User)> VerifyCredentialsAsync()
    {
        var status = UsernamePasswordAuth.TryReadRequest(_input.Data, out var name, out var password, out int consumed);
        if (status != OperationStatus.Done)
        {
            return (status, null);
        }

        byte[] nameBytes = name.ToArray();
        byte[] passwordBytes = password.ToArray();
        _input.Consume(consumed);
        try
        {
            var users = _context.Users;
            bool ok = await Task.Run(() => users.Verify(nameBytes, passwordBytes)).ConfigureAwait(false);
            return (OperationStatus.Done, ok ? System.Text.Encoding.UTF8.GetString(nameBytes) : null);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(passwordBytes);
        }
    }

    private OperationStatus ParseRequest(out ParsedRequest request, out ReplyCode invalidReply)
    {
        var status = Socks5Request.TryRead(_input.Data, out var command, out var destination, out int consumed, out invalidReply);
        request = status == OperationStatus.Done ? new ParsedRequest(command, Destination.From(destination)) : default;
        if (status == OperationStatus.Done)
        {
            _input.Consume(consumed);
        }

        return status;
    }

    private void LogMalformedIf(bool condition, string stage)
    {
        if (condition)
        {
            Log.HandshakeMalformed(Relay.Logger, _peer, stage);
        }
    }

    /// <summary>Takes one of the client's association slots for the life of the association (one method: every suspended async method is an object an idle association keeps).</summary>
    private async Task AssociateAsync(ParsedRequest request, CancellationToken stopping)
    {
        if (!_context.Clients.TryOpenAssociation(_peer.Address, out string? limit))
        {
            Log.AssociationLimit(Relay.Logger, _peer, limit!);
            Relay.Metrics.RecordRefusedAssociation(Metrics.RefusalReasons.Limit);
            ReplyFailure(ReplyCode.ConnectionNotAllowed);
            return;
        }

        try
        {
            ushort fixedPort = FixedClientPort(request.Destination);
            var association = OpenAssociation(fixedPort, out var notices);
            if (association is null)
            {
                return;
            }

            var stop = default(CancellationTokenRegistration);
            var watch = Task.CompletedTask;
            try
            {
                // Registered before the client hears of it, so shutdown, metrics and limits see it at once.
                _context.Add(association);
                stop = stopping.Register(static a => ((UdpAssociation)a!).End(AssociationEnd.Shutdown), association);
                var relay = association.RelayEndPoint;
                Send(static (b, s) => Socks5Reply.Write(b, ReplyCode.Succeeded, s.Address, s.Port), (Address: _context.AdvertisedFor(relay.Address), Port: (ushort)relay.Port));
                association.AnnounceNotices();
                Log.AssociationOpened(Relay.Logger, _peer, relay, fixedPort == 0 ? $"{_peer.Address}:any" : $"{_peer.Address}:{fixedPort}");
                watch = WatchControlAsync(association);
            }
            catch
            {
                association.End(AssociationEnd.ClientReset); // RunAsync below then only closes what the association opened
                throw;
            }
            finally
            {
                try
                {
                    await association.RunAsync().ConfigureAwait(false);
                }
                finally
                {
                    await CloseAsync(association, notices, stop, watch).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _context.Clients.CloseAssociation(_peer.Address);
        }
    }

    /// <summary>After the association's sockets are closed: its last notice, flushed for a while, then the control connection.</summary>
    private async Task CloseAsync(UdpAssociation association, NoticeWriter notices, CancellationTokenRegistration stop, Task watch)
    {
        try
        {
            stop.Dispose();
            _context.Remove(association);
            association.AnnounceClosing();
            await notices.CompleteAsync().WaitAsync(NoticeFlushTime).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _socket.Dispose();
            await watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The client's UDP port when the request named the client's own address and a port; 0 (any) otherwise.</summary>
    private ushort FixedClientPort(Destination requested)
    {
        if (requested.Address is { } requestedAddress && SessionContext.Normalize(requestedAddress).Equals(_peer.Address))
        {
            return (ushort)requested.Port;
        }

        if (!requested.IsUnspecified)
        {
            Log.RequestAddressIgnored(Relay.Logger, _peer, requested.ToString());
        }

        return 0;
    }

    /// <summary>The client-facing socket and the association around it; null (the client told why) when no port is free.</summary>
    private UdpAssociation? OpenAssociation(ushort fixedPort, out NoticeWriter notices)
    {
        // Notices are small lines that should leave at once (no Nagle), and are written without
        // blocking from the relay's threads, so a client that stops reading stalls nothing.
        // A small send buffer: the kernel's memory for a client that never reads stays bounded too
        // (Linux would otherwise grow it to megabytes), and 16 KiB holds a burst of ~180 lines.
        // Set first: a connection already reset fails here, before a UDP socket is bound for it.
        _socket.NoDelay = true;
        _socket.Blocking = false;
        _socket.SendBufferSize = NoticeSendBuffer;
        notices = new NoticeWriter(_socket, Relay.Options.NoticeQueueLength, Relay.Options.NoticesEnabled);
        var local = SessionContext.Normalize(_socket.LocalEndPoint);
        Socket? client;
        try
        {
            client = Relay.ClientPorts.Bind(local.Address);
        }
        catch (SocketException e)
        {
            Log.AssociationFailed(Relay.Logger, _peer, e.SocketErrorCode.ToString());
            client = null;
        }

        if (client is null)
        {
            // Port range exhausted (README, "Configuration"): counted and named, so an operator sees which setting to raise.
            Relay.Metrics.RecordRefusedAssociation(Metrics.RefusalReasons.UdpPortRange);
            Log.AssociationFailed(Relay.Logger, _peer, $"every port of Relay:UdpPortRange={Relay.Options.UdpPortRange} is in use; enlarge the range (and publish it)");
            ReplyFailure(ReplyCode.GeneralFailure);
            return null;
        }

        try
        {
            return new UdpAssociation(Relay, client, _peer, fixedPort, notices);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the control connection until it ends: RFC 1928 ties the association to it. Whatever
    /// a client sends there is read and discarded.
    /// </summary>
    private async Task WatchControlAsync(UdpAssociation association)
    {
        byte[] sink = DiscardBuffer;
        try
        {
            while (await _socket.ReceiveAsync(sink, SocketFlags.None).ConfigureAwait(false) > 0)
            {
            }

            association.End(AssociationEnd.ClientClosed);
        }
        catch (SocketException)
        {
            association.End(AssociationEnd.ClientReset);
        }
        catch (ObjectDisposedException)
        {
            association.End(AssociationEnd.ClientClosed);
        }
    }

    private void ReplyFailure(ReplyCode reply) => Send(static (b, r) => Socks5Reply.WriteFailure(b, r), reply);

    /// <summary>
    /// A handshake reply, sent synchronously: at most a few dozen bytes per connection can never
    /// fill the kernel's send buffer, so this never waits, and the connection keeps no send event
    /// args for the rest of its life (an association's control connection lives long).
    /// </summary>
    private void Send<TState>(MessageWriter<TState> write, TState state)
    {
        Span<byte> buffer = stackalloc byte[Socks5Reply.MaxLength];
        int length = write(buffer, state);
        if (_socket.Send(buffer[..length], SocketFlags.None) != length)
        {
            throw new SocketException((int)SocketError.NoBufferSpaceAvailable);
        }
    }

    private delegate int MessageWriter<in TState>(Span<byte> buffer, TState state);

    /// <summary>A request lifted out of the handshake buffer.</summary>
    private readonly record struct ParsedRequest(Socks5Command Command, Destination Destination);
}
