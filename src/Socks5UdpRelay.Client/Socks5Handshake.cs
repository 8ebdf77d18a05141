using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// The client side of RFC 1928 §3-§6 and RFC 1929 on one TCP connection: connect, negotiate a
/// method, authenticate, send one request, read its reply. Shared by CONNECT and UDP ASSOCIATE.
/// </summary>
internal static class Socks5Handshake
{
    /// <summary>
    /// The largest message either side sends is the RFC 1929 request (VER ULEN 255 PLEN 255: 513
    /// bytes); the largest read is a reply (262 bytes), so one 513-byte buffer serves the handshake.
    /// </summary>
    internal const int BufferLength = UsernamePasswordAuth.MaxRequestLength;

    private delegate OperationStatus Probe(ReadOnlySpan<byte> source, out int consumed);

    internal static Socket CreateSocket(Socks5ProxyOptions options, AddressFamily family, SocketType type, ProtocolType protocol)
        => options.SocketFactory?.Invoke(family, type, protocol) ?? new Socket(family, type, protocol);

    /// <summary>
    /// Connects to the proxy and runs the handshake for <paramref name="command"/> with
    /// <paramref name="target"/> as DST. Returns the connected socket and the reply's BND address.
    /// </summary>
    internal static Task<(Socket Socket, Socks5Endpoint Bound)> EstablishAsync(
        Socks5ProxyOptions options, Socks5Command command, Socks5Endpoint target, CancellationToken cancellationToken)
        => EstablishAsync(options, command, _ => target, cancellationToken);

    /// <summary>
    /// Connects to the proxy, asks <paramref name="targetFor"/> for DST once the TCP connection
    /// stands (UDP ASSOCIATE names the UDP socket it binds beside the connection's local address),
    /// and runs the handshake. A null DST sends the zero address and port of the proxy
    /// connection's family: "any source" (RFC 1928 §6, UDP ASSOCIATE), for a caller that cannot know it.
    /// </summary>
    internal static async Task<(Socket Socket, Socks5Endpoint Bound)> EstablishAsync(
        Socks5ProxyOptions options, Socks5Command command, Func<Socket, Socks5Endpoint?> targetFor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateCredentials(options.Credentials);
        var socket = await ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            var target = targetFor(socket);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(options.HandshakeTimeout);
            var bound = await NegotiateAsync(socket, options.Credentials, command, target, deadline.Token).ConfigureAwait(false);
            return (socket, bound);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new Socks5Exception(
                Socks5ErrorKind.Timeout, $"The SOCKS5 handshake with {options.Host}:{options.Port} took longer than {options.HandshakeTimeout}.");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new Socks5Exception(
                Socks5ErrorKind.ProtocolError, $"The connection to the proxy failed during the SOCKS5 handshake: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void ValidateCredentials(NetworkCredential? credentials)
    {
        if (credentials is null)
        {
            return;
        }

        // RFC 1929 fixes ULEN and PLEN at 1 to 255.
        if (Encoding.UTF8.GetByteCount(credentials.UserName) is 0 or > 255 || Encoding.UTF8.GetByteCount(credentials.Password) is 0 or > 255)
        {
            throw new ArgumentException("RFC 1929 needs a username and a password of 1 to 255 bytes each.", nameof(credentials));
        }
    }

    private static async Task<Socket> ConnectAsync(Socks5ProxyOptions options, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ConnectTimeout);
        Exception? lastError = null;
        try
        {
            IPAddress[] addresses = IPAddress.TryParse(options.Host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(options.Host, deadline.Token).ConfigureAwait(false);
            foreach (var address in addresses)
            {
                var socket = CreateSocket(options, address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, options.Port), deadline.Token).ConfigureAwait(false);
                    // The handshake is a few small request/answer writes: Nagle would only delay them.
                    socket.NoDelay = true;
                    return socket;
                }
                catch (SocketException e)
                {
                    socket.Dispose();
                    lastError = e;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
        }
        catch (SocketException e)
        {
            throw new Socks5Exception(Socks5ErrorKind.ProxyUnreachable, $"The proxy name '{options.Host}' could not be resolved: {e.Message}", e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new Socks5Exception(
                Socks5ErrorKind.Timeout, $"Connecting to the proxy at {options.Host}:{options.Port} took longer than {options.ConnectTimeout}.");
        }

        throw new Socks5Exception(
            Socks5ErrorKind.ProxyUnreachable,
            lastError is null
                ? $"The proxy name '{options.Host}' has no addresses."
                : $"Could not connect to the proxy at {options.Host}:{options.Port}: {lastError.Message}",
            lastError);
    }

    private static async Task<Socks5Endpoint> NegotiateAsync(
        Socket socket, NetworkCredential? credentials, Socks5Command command, Socks5Endpoint? target, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[BufferLength];

        int length = WriteGreeting(buffer, credentials is not null);
        await socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        await ReadMessageAsync(socket, buffer, static (ReadOnlySpan<byte> s, out int c) => MethodSelection.TryReadReply(s, out _, out c), cancellationToken)
            .ConfigureAwait(false);
        MethodSelection.TryReadReply(buffer, out var method, out _);
        switch (method)
        {
            case AuthMethod.NoAuthentication:
                break;
            case AuthMethod.UsernamePassword when credentials is not null:
                length = WriteAuthRequest(buffer, credentials);
                await socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                await ReadMessageAsync(socket, buffer, static (ReadOnlySpan<byte> s, out int c) => UsernamePasswordAuth.TryReadReply(s, out _, out c), cancellationToken)
                    .ConfigureAwait(false);
                UsernamePasswordAuth.TryReadReply(buffer, out byte status, out _);
                if (status != UsernamePasswordAuth.StatusSuccess)
                {
                    throw new Socks5Exception(Socks5ErrorKind.AuthenticationFailed, "The proxy rejected the username and password.");
                }

                break;
            case AuthMethod.NoAcceptableMethods:
                throw new Socks5Exception(
                    Socks5ErrorKind.AuthenticationFailed,
                    credentials is null
                        ? "The proxy accepted no offered method; it may require a username and password."
                        : "The proxy accepted neither no-authentication nor username/password.");
            default:
                throw new Socks5Exception(Socks5ErrorKind.ProtocolError, $"The proxy chose method 0x{(byte)method:X2}, which was not offered.");
        }

        var zeroFamily = socket.RemoteEndPoint is IPEndPoint { Address: var proxyAddress } && !proxyAddress.IsIPv4MappedToIPv6
            ? proxyAddress.AddressFamily
            : AddressFamily.InterNetwork;
        length = WriteRequest(buffer, command, target ?? new Socks5Endpoint(zeroFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
        await socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        int replyLength = await ReadMessageAsync(socket, buffer, static (ReadOnlySpan<byte> s, out int c) => Socks5Reply.TryRead(s, out _, out _, out c), cancellationToken)
            .ConfigureAwait(false);
        return ReadReply(buffer.AsSpan(0, replyLength));
    }

    private static int WriteGreeting(Span<byte> buffer, bool offerUsernamePassword)
    {
        ReadOnlySpan<AuthMethod> methods = offerUsernamePassword
            ? [AuthMethod.NoAuthentication, AuthMethod.UsernamePassword]
            : [AuthMethod.NoAuthentication];
        return MethodSelection.WriteGreeting(buffer, methods);
    }

    private static int WriteAuthRequest(Span<byte> buffer, NetworkCredential credentials)
    {
        Span<byte> user = stackalloc byte[255];
        Span<byte> password = stackalloc byte[255];
        int userLength = Encoding.UTF8.GetBytes(credentials.UserName, user);
        int passwordLength = Encoding.UTF8.GetBytes(credentials.Password, password);
        return UsernamePasswordAuth.WriteRequest(buffer, user[..userLength], password[..passwordLength]);
    }

    private static int WriteRequest(Span<byte> buffer, Socks5Command command, Socks5Endpoint target)
    {
        Span<byte> scratch = stackalloc byte[SocksAddressCodec.MaxDomainNameLength];
        return Socks5Request.Write(buffer, command, target.ToWire(scratch));
    }

    private static Socks5Endpoint ReadReply(ReadOnlySpan<byte> reply)
    {
        Socks5Reply.TryRead(reply, out var code, out var bound, out _);
        if (code != ReplyCode.Succeeded)
        {
            throw new Socks5Exception(code, $"The proxy refused the request: {Socks5Reply.Describe(code)} (REP {(byte)code}).");
        }

        return Socks5Endpoint.FromWire(bound);
    }

    /// <summary>
    /// Reads one whole message into the start of <paramref name="buffer"/> and not a byte more:
    /// after the UDP ASSOCIATE reply the proxy may already be writing notice lines, and after a
    /// CONNECT reply the destination's data, and neither belongs to the handshake. So it peeks,
    /// consumes only bytes that the codec says belong to the message, and returns its length.
    /// </summary>
    private static async ValueTask<int> ReadMessageAsync(Socket socket, byte[] buffer, Probe probe, CancellationToken cancellationToken)
    {
        int have = 0;
        while (true)
        {
            int peeked = await socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
            if (peeked == 0)
            {
                throw new Socks5Exception(Socks5ErrorKind.ProtocolError, "The proxy closed the connection during the SOCKS5 handshake.");
            }

            var status = probe(buffer.AsSpan(0, have + peeked), out int consumed);
            if (status == OperationStatus.InvalidData)
            {
                throw new Socks5Exception(Socks5ErrorKind.ProtocolError, "The proxy's answer is not valid SOCKS5.");
            }

            // Incomplete: every byte peeked belongs to this message. Complete: only up to its end.
            int take = status == OperationStatus.Done ? consumed - have : peeked;
            await ReceiveExactlyAsync(socket, buffer.AsMemory(have, take), cancellationToken).ConfigureAwait(false);
            have += take;
            if (status == OperationStatus.Done)
            {
                return have;
            }

            if (have == buffer.Length)
            {
                throw new Socks5Exception(Socks5ErrorKind.ProtocolError, "The proxy's answer is longer than any SOCKS5 message.");
            }
        }
    }

    private static async ValueTask ReceiveExactlyAsync(Socket socket, Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (!destination.IsEmpty)
        {
            int n = await socket.ReceiveAsync(destination, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new Socks5Exception(Socks5ErrorKind.ProtocolError, "The proxy closed the connection during the SOCKS5 handshake.");
            }

            destination = destination[n..];
        }
    }
}
