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
internal sealed class Handshake(
    TimeSpan timeout, UserDirectory users, PasswordChecker passwords, AuthOptions limits, RelayMetrics metrics, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// The request; null when the session ends here (the client was answered where it is owed an
    /// answer). <paramref name="client"/> is the key its per-client limits count by.
    /// </summary>
    public async Task<ParsedRequest?> RunAsync(Socket socket, HandshakeBuffer input, IPEndPoint peer, IPAddress client, CancellationToken stopping)
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
            if (method == AuthMethod.UsernamePassword && (user = await AuthenticateAsync(socket, input, peer, client, deadline.Token).ConfigureAwait(false)) is null)
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
    private async Task<string?> AuthenticateAsync(Socket socket, HandshakeBuffer input, IPEndPoint peer, IPAddress client, CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = UsernamePasswordAuth.TryReadRequest(input.Data, out var name, out var password, out int consumed);
            if (status == OperationStatus.Done)
            {
                byte[] nameBytes = name.ToArray();
                byte[] passwordBytes = password.ToArray(); // the checker clears it
                input.Consume(consumed);
                var verdict = await passwords.CheckAsync(client, nameBytes, passwordBytes, cancellationToken).ConfigureAwait(false);
                if (verdict == LoginVerdict.Accepted)
                {
                    string user = System.Text.Encoding.UTF8.GetString(nameBytes);
                    ReplyWriter.Send(socket, static (b, _) => UsernamePasswordAuth.WriteReply(b, UsernamePasswordAuth.StatusSuccess), 0);
                    Log.Authenticated(logger, peer, user);
                    return user;
                }

                await FailAsync(socket, peer, Reason(verdict), cancellationToken).ConfigureAwait(false);
                return null;
            }

            if (status == OperationStatus.InvalidData)
            {
                await FailAsync(socket, peer, "malformed request", cancellationToken).ConfigureAwait(false);
                return null;
            }

            if (!await input.ReadMoreAsync(socket, cancellationToken).ConfigureAwait(false))
            {
                LogMalformedIf(input.Data.Length > 0, peer, "authentication");
                return null;
            }
        }
    }

    /// <summary>Every failure the same to the client: the failure status after the delay, then the close.</summary>
    private async Task FailAsync(Socket socket, IPEndPoint peer, string reason, CancellationToken cancellationToken)
    {
        Log.AuthenticationFailed(logger, peer, reason);
        metrics.RecordAuthFailure();
        await Task.Delay(users.FailureDelay, time, cancellationToken).ConfigureAwait(false);
        ReplyWriter.Send(socket, static (b, _) => UsernamePasswordAuth.WriteReply(b, UsernamePasswordAuth.StatusFailure), 0);
    }

    private string Reason(LoginVerdict verdict) => verdict switch
    {
        LoginVerdict.TooManyAtOnce => $"not checked: {limits.MaxConcurrentAttemptsPerClient} logins of this client are being checked already (Auth:MaxConcurrentAttemptsPerClient)",
        LoginVerdict.QueueFull => $"not checked: {limits.MaxQueuedDerivations} logins are waiting to be checked already (Auth:MaxQueuedDerivations)",
        _ => "wrong user name or password",
    };

    private void LogMalformedIf(bool condition, IPEndPoint peer, string stage)
    {
        if (condition)
        {
            Log.HandshakeMalformed(logger, peer, stage);
        }
    }
}
