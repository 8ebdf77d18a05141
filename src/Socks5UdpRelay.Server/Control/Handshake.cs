using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// The start of every control connection (RFC 1928 §3–4, RFC 1929): method negotiation, the
/// credentials when users are configured, then the request, all within the handshake deadline.
/// </summary>
internal sealed class Handshake(TimeSpan timeout, UserDirectory users, RelayMetrics metrics, TimeProvider time, ILogger logger)
{
    /// <summary>The request; null when the session ends here (the client was answered where it is owed an answer).</summary>
    public async Task<ParsedRequest?> RunAsync(Socket socket, HandshakeBuffer input, IPEndPoint peer, CancellationToken stopping)
    {
        // The deadline runs on the injected clock, so tests drive it without waiting.
        using var expiry = new CancellationTokenSource(timeout, time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping, expiry.Token);
        try
        {
            ReadOnlyMemory<byte> methods;
            while (true)
            {
                var status = MethodSelection.TryReadGreeting(input.Data, out var offered, out int consumed);
                if (status == OperationStatus.Done)
                {
                    methods = offered.ToArray();
                    input.Consume(consumed);
                    break;
                }

                if (status == OperationStatus.InvalidData || !await input.ReadMoreAsync(socket, deadline.Token).ConfigureAwait(false))
                {
                    LogMalformedIf(status == OperationStatus.InvalidData || input.Data.Length > 0, peer, "greeting");
                    return null;
                }
            }

            var method = users.RequiresAuthentication ? AuthMethod.UsernamePassword : AuthMethod.NoAuthentication;
            if (!methods.Span.Contains((byte)method))
            {
                Log.NoAcceptableMethod(logger, peer);
                ReplyWriter.Send(socket, static (b, _) => MethodSelection.WriteReply(b, AuthMethod.NoAcceptableMethods), 0);
                return null;
            }

            ReplyWriter.Send(socket, static (b, m) => MethodSelection.WriteReply(b, m), method);
            string? user = null;
            if (method == AuthMethod.UsernamePassword && (user = await AuthenticateAsync(socket, input, peer, deadline.Token).ConfigureAwait(false)) is null)
            {
                return null;
            }

            while (true)
            {
                var status = Socks5Request.TryRead(input.Data, out var command, out var destination, out int consumed, out var invalidReply);
                if (status == OperationStatus.Done)
                {
                    var request = new ParsedRequest(command, Destination.From(destination), user);
                    input.Consume(consumed);
                    return request;
                }

                if (status == OperationStatus.InvalidData)
                {
                    Log.HandshakeMalformed(logger, peer, "request");
                    ReplyWriter.Failure(socket, invalidReply);
                    return null;
                }

                if (!await input.ReadMoreAsync(socket, deadline.Token).ConfigureAwait(false))
                {
                    LogMalformedIf(input.Data.Length > 0, peer, "request");
                    return null;
                }
            }
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            Log.HandshakeTimedOut(logger, peer, timeout);
            return null;
        }
    }

    /// <summary>RFC 1929: reads the credentials and answers with the user's name; a failure (null) is answered only after a delay, then the connection closes.</summary>
    private async Task<string?> AuthenticateAsync(Socket socket, HandshakeBuffer input, IPEndPoint peer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (status, user) = await VerifyCredentialsAsync(input).ConfigureAwait(false);
            if (status == OperationStatus.Done && user is not null)
            {
                ReplyWriter.Send(socket, static (b, _) => UsernamePasswordAuth.WriteReply(b, UsernamePasswordAuth.StatusSuccess), 0);
                Log.Authenticated(logger, peer, user);
                return user;
            }

            if (status == OperationStatus.Done || status == OperationStatus.InvalidData)
            {
                Log.AuthenticationFailed(logger, peer, status == OperationStatus.Done ? "wrong user name or password" : "malformed request");
                metrics.RecordAuthFailure();
                await Task.Delay(users.FailureDelay, time, cancellationToken).ConfigureAwait(false);
                ReplyWriter.Send(socket, static (b, _) => UsernamePasswordAuth.WriteReply(b, UsernamePasswordAuth.StatusFailure), 0);
                return null;
            }

            if (!await input.ReadMoreAsync(socket, cancellationToken).ConfigureAwait(false))
            {
                LogMalformedIf(input.Data.Length > 0, peer, "authentication");
                return null;
            }
        }
    }

    /// <summary>
    /// Done with a user name on success, Done with null on a wrong password. The key derivation
    /// takes a good part of a millisecond and more: it runs on the thread pool, never on the
    /// socket engine's thread.
    /// </summary>
    private async Task<(OperationStatus Status, string? User)> VerifyCredentialsAsync(HandshakeBuffer input)
    {
        var status = UsernamePasswordAuth.TryReadRequest(input.Data, out var name, out var password, out int consumed);
        if (status != OperationStatus.Done)
        {
            return (status, null);
        }

        byte[] nameBytes = name.ToArray();
        byte[] passwordBytes = password.ToArray();
        input.Consume(consumed);
        try
        {
            bool ok = await Task.Run(() => users.Verify(nameBytes, passwordBytes)).ConfigureAwait(false);
            return (OperationStatus.Done, ok ? System.Text.Encoding.UTF8.GetString(nameBytes) : null);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(passwordBytes);
        }
    }

    private void LogMalformedIf(bool condition, IPEndPoint peer, string stage)
    {
        if (condition)
        {
            Log.HandshakeMalformed(logger, peer, stage);
        }
    }
}
