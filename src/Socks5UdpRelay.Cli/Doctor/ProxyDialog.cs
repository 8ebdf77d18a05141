using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// One TCP connection to the proxy, driven a step at a time (RFC 1928 §3-§6, RFC 1929) so that
/// each step's outcome can be told apart: which address refused, which method the proxy chose,
/// what it answered to a request. Bytes that follow a reply (notice lines) are kept for the caller.
/// </summary>
internal sealed class ProxyDialog : IDisposable
{
    private delegate OperationStatus Codec(ReadOnlySpan<byte> source, out int consumed);

    // The largest message either side sends is the RFC 1929 request (VER ULEN 255 PLEN 255: 513
    // bytes); a reply is at most 262. Room for both, and for a first notice line behind a reply.
    private readonly byte[] _buffer = new byte[UsernamePasswordAuth.MaxRequestLength + NoticeFormat.MaxLineLength];
    private int _have;

    private ProxyDialog(Socket socket)
    {
        Socket = socket;
        Remote = (IPEndPoint)socket.RemoteEndPoint!;
        Local = (IPEndPoint)socket.LocalEndPoint!;
    }

    public Socket Socket { get; }

    /// <summary>The proxy's address as connected (IPv4-mapped addresses unmapped).</summary>
    public IPEndPoint Remote { get; }

    public IPEndPoint Local { get; }

    /// <summary>
    /// Resolves <paramref name="host"/> and tries each address in turn within <paramref name="timeout"/>
    /// (one deadline for all, as the client library does), recording why each one failed.
    /// </summary>
    public static async Task<ConnectOutcome> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, deadline.Token).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            return new ConnectOutcome(null, [], $"the name '{host}' did not resolve: {e.Message}", clock.Elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ConnectOutcome(null, [], $"resolving '{host}' took longer than {timeout.TotalSeconds:0.#} s", clock.Elapsed);
        }

        var failures = new List<ConnectFailure>();
        foreach (var address in addresses)
        {
            var endpoint = new IPEndPoint(address, port);
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endpoint, deadline.Token).ConfigureAwait(false);
                socket.NoDelay = true;
                return new ConnectOutcome(new ProxyDialog(socket), failures, null, clock.Elapsed);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failures.Add(new ConnectFailure(endpoint, e.SocketErrorCode));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                failures.Add(new ConnectFailure(endpoint, SocketError.TimedOut));
                break;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        return new ConnectOutcome(null, failures, addresses.Length == 0 ? $"the name '{host}' has no addresses" : null, clock.Elapsed);
    }

    /// <summary>
    /// RFC 1928 §3: offers "no authentication", and "username/password" too when there are
    /// credentials; runs RFC 1929 when the proxy picks it.
    /// </summary>
    public async Task<MethodOutcome> NegotiateAsync(NetworkCredential? credentials, CancellationToken cancellationToken)
    {
        AuthMethod[] offered = credentials is null ? [AuthMethod.NoAuthentication] : [AuthMethod.NoAuthentication, AuthMethod.UsernamePassword];
        int length = MethodSelection.WriteGreeting(_buffer, offered);
        await Socket.SendAsync(_buffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var read = await ReadAsync(static (ReadOnlySpan<byte> s, out int c) => MethodSelection.TryReadReply(s, out _, out c), cancellationToken).ConfigureAwait(false);
        if (read.Problem is { } problem)
        {
            return new MethodOutcome(offered, null, null, problem);
        }

        MethodSelection.TryReadReply(_buffer, out var method, out int consumed);
        Consume(consumed);
        if (method != AuthMethod.UsernamePassword || credentials is null)
        {
            return new MethodOutcome(offered, method, null, null);
        }

        length = WriteAuthRequest(credentials);
        await Socket.SendAsync(_buffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        read = await ReadAsync(static (ReadOnlySpan<byte> s, out int c) => UsernamePasswordAuth.TryReadReply(s, out _, out c), cancellationToken).ConfigureAwait(false);
        if (read.Problem is { } authProblem)
        {
            return new MethodOutcome(offered, method, null, authProblem);
        }

        UsernamePasswordAuth.TryReadReply(_buffer, out byte status, out consumed);
        Consume(consumed);
        return new MethodOutcome(offered, method, status, null);
    }

    /// <summary>RFC 1928 §4-§6: one request and its reply.</summary>
    public async Task<RequestOutcome> RequestAsync(Socks5Command command, IPEndPoint address, CancellationToken cancellationToken)
    {
        Span<byte> scratch = stackalloc byte[16];
        int length = Socks5Request.Write(_buffer, command, SocksAddress.FromIPEndPoint(address, scratch));
        await Socket.SendAsync(_buffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var read = await ReadAsync(static (ReadOnlySpan<byte> s, out int c) => Socks5Reply.TryRead(s, out _, out _, out c), cancellationToken).ConfigureAwait(false);
        if (read.Problem is { } problem)
        {
            return new RequestOutcome(null, null, problem);
        }

        Socks5Reply.TryRead(_buffer, out var reply, out var bound, out int consumed);
        var endpoint = bound.Type == AddressType.DomainName
            ? new Socks5Endpoint(bound.GetHostName(), bound.Port)
            : new Socks5Endpoint(bound.ToIPAddress(), bound.Port);
        Consume(consumed);
        return new RequestOutcome(reply, endpoint, null);
    }

    /// <summary>Bytes already read past the last reply (the start of the notice lines), handed over once.</summary>
    public byte[] TakeLeftover()
    {
        byte[] rest = _buffer[.._have];
        _have = 0;
        return rest;
    }

    public void Dispose() => Socket.Dispose();

    /// <summary>The address the proxy is known by: unmapped, so an IPv4 proxy reads as IPv4.</summary>
    public IPAddress ProxyAddress => Remote.Address.IsIPv4MappedToIPv6 ? Remote.Address.MapToIPv4() : Remote.Address;

    private int WriteAuthRequest(NetworkCredential credentials)
    {
        Span<byte> user = stackalloc byte[255];
        Span<byte> password = stackalloc byte[255];
        if (!Encoding.UTF8.TryGetBytes(credentials.UserName, user, out int userLength) || userLength == 0
            || !Encoding.UTF8.TryGetBytes(credentials.Password, password, out int passwordLength) || passwordLength == 0)
        {
            throw CliException.Usage("RFC 1929 needs a username and a password of 1 to 255 bytes each.");
        }

        return UsernamePasswordAuth.WriteRequest(_buffer, user[..userLength], password[..passwordLength]);
    }

    /// <summary>Reads until <paramref name="codec"/> finds one whole message at the start of the buffer.</summary>
    private async Task<ReadOutcome> ReadAsync(Codec codec, CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = codec(_buffer.AsSpan(0, _have), out _);
            if (status == OperationStatus.Done)
            {
                return default;
            }

            if (status == OperationStatus.InvalidData)
            {
                return new ReadOutcome($"an answer that is not SOCKS5 ({Show(_buffer.AsSpan(0, _have))})");
            }

            if (_have == _buffer.Length)
            {
                return new ReadOutcome("an answer longer than any SOCKS5 message");
            }

            int received;
            try
            {
                received = await Socket.ReceiveAsync(_buffer.AsMemory(_have), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                return new ReadOutcome($"the connection failed ({e.SocketErrorCode}: {e.Message})");
            }

            if (received == 0)
            {
                return new ReadOutcome(_have switch
                {
                    0 => "the proxy closed the connection without answering",
                    // A reply cut short still says what the proxy meant (shadowsocks-libev sends 05 07 00 01 and closes).
                    >= 2 when _buffer[0] == Socks5Constants.Version => $"the proxy began a reply with code 0x{_buffer[1]:X2} ({Socks5Reply.Describe((ReplyCode)_buffer[1])}) and closed the connection before its end",
                    _ => $"the proxy closed the connection after {Show(_buffer.AsSpan(0, _have))}",
                });
            }

            _have += received;
        }
    }

    private void Consume(int count)
    {
        _buffer.AsSpan(count, _have - count).CopyTo(_buffer);
        _have -= count;
    }

    /// <summary>The first bytes of a bad answer as text when they are printable (an HTTP proxy's "HTTP/1.1 400"), else as hex.</summary>
    internal static string Show(ReadOnlySpan<byte> bytes)
    {
        var head = bytes[..Math.Min(bytes.Length, 16)];
        bool printable = head.Length >= 4 && head.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) < 0;
        return printable ? $"\"{Encoding.ASCII.GetString(head)}\"" : $"bytes {Convert.ToHexString(head)}";
    }

    private readonly record struct ReadOutcome(string? Problem);
}
