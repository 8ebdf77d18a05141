using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Send;

/// <summary>
/// One run of <c>send</c>: a sender (stdin or --data/--file), a receiver writing replies to
/// stdout, and a notice reader. The first of "input done and --wait elapsed", "a fatal notice",
/// "the proxy ended the association" or Ctrl-C decides the exit code.
/// </summary>
internal sealed class SendSession(CliConsole console)
{
    private readonly TaskCompletionSource<int> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _worstNotice = ExitCodes.Success;
    private string? _closingReason;

    public async Task<int> RunAsync(SendRequest request, ProxySession session, CancellationToken cancellationToken)
    {
        var fixedPayload = await ReadFixedPayloadAsync(request, cancellationToken).ConfigureAwait(false);
        string host = await DestinationHost.ResolveAsync(request.Host, request.Family, cancellationToken).ConfigureAwait(false);
        await using var association = await session.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var receiving = ReceiveAsync(association, session.Verbose, request.AnySource, stop.Token);
        var reading = ReadNoticesAsync(association, session, request.KeepGoing, stop.Token);
        var watching = WatchClosedAsync(association, session, stop.Token);
        var sending = SendAllAsync(association, host, request, fixedPayload, stop.Token);

        int exitCode;
        try
        {
            exitCode = await _outcome.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            exitCode = ExitCodes.Interrupted;
        }

        await stop.CancelAsync().ConfigureAwait(false);
        // The sender may sit in a read of a terminal that nothing can cancel: it is abandoned, not awaited.
        await Task.WhenAll(receiving, reading, watching).ConfigureAwait(false);
        _ = sending;
        return exitCode;
    }

    private static async Task<byte[]?> ReadFixedPayloadAsync(SendRequest request, CancellationToken cancellationToken)
    {
        if (request.Data is { } data)
        {
            return System.Text.Encoding.UTF8.GetBytes(data);
        }

        if (request.File is not { } file)
        {
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(file.FullName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"--file {file}: {e.Message}");
        }

        return bytes.Length <= StdinDatagrams.MaxPayload
            ? bytes
            : throw CliException.Usage($"--file {file}: {bytes.Length} bytes do not fit in one datagram (at most {StdinDatagrams.MaxPayload}).");
    }

    private async Task SendAllAsync(Socks5UdpAssociation association, string host, SendRequest request, byte[]? fixedPayload, CancellationToken cancellationToken)
    {
        try
        {
            if (fixedPayload is not null)
            {
                for (int i = 0; i < request.Count && !_outcome.Task.IsCompleted; i++)
                {
                    if (i > 0)
                    {
                        await Task.Delay(request.Interval, console.Time, cancellationToken).ConfigureAwait(false);
                    }

                    await association.SendAsync(host, request.Port, fixedPayload, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                var input = new StdinDatagrams(console.In, console.DataEncoding, request.Raw);
                while (!_outcome.Task.IsCompleted
                    && await input.ReadAsync(cancellationToken).AsTask().WaitAsync(cancellationToken).ConfigureAwait(false) is { } datagram)
                {
                    await association.SendAsync(host, request.Port, datagram, cancellationToken).ConfigureAwait(false);
                }
            }

            await Task.Delay(request.Wait, console.Time, cancellationToken).ConfigureAwait(false);
            _outcome.TrySetResult(Volatile.Read(ref _worstNotice));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AccessDenied && association.Transport == Socks5UdpTransport.Udp)
        {
            // EPERM/EACCES on a UDP send: this host's own firewall, not the proxy, refused it.
            console.Say($"sending to the proxy's relay failed: this host refused it ({e.Message}): a local firewall? --udp-over-tcp carries the datagrams over the proxy's TCP connection instead.");
            _outcome.TrySetResult(ExitCodes.ProxyFailed);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            console.Say($"sending to the proxy's relay failed: {e.Message}");
            _outcome.TrySetResult(ExitCodes.ProxyFailed);
        }
    }

    private Task ReceiveAsync(Socks5UdpAssociation association, bool verbose, bool withSource, CancellationToken cancellationToken)
        => AssociationReaders.ReadRepliesAsync(
            association,
            async (result, data) =>
            {
                if (verbose)
                {
                    console.Say($"{result.Length} bytes from {result.Source}");
                }

                // nc writes replies as they are, adding nothing; so does this, unless asked to name each source.
                if (withSource)
                {
                    await console.Out.WriteAsync($"{result.Source}: ").ConfigureAwait(false);
                }

                await console.Out.WriteAsync(console.DataEncoding.GetString(data.Span)).ConfigureAwait(false);
                await console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            },
            cancellationToken);

    private Task ReadNoticesAsync(Socks5UdpAssociation association, ProxySession session, bool keepGoing, CancellationToken cancellationToken)
        => AssociationReaders.ReadNoticesAsync(
            association,
            notice =>
            {
                session.Trace(notice);
                int code = notice.Verb switch
                {
                    NoticeVerbs.UdpError or NoticeVerbs.UdpUnresolved => ExitCodes.Unreachable,
                    NoticeVerbs.UdpDenied => ExitCodes.ProxyFailed,
                    _ => ExitCodes.Success,
                };
                if (notice.Verb == NoticeVerbs.Closing)
                {
                    _closingReason = notice.Reason ?? "no reason given";
                }

                if (code == ExitCodes.Success || NoticeText.Describe(notice) is not { } text)
                {
                    return;
                }

                console.Say(text);
                if (Volatile.Read(ref _worstNotice) == ExitCodes.Success)
                {
                    Volatile.Write(ref _worstNotice, code);
                }

                if (!keepGoing)
                {
                    _outcome.TrySetResult(code);
                }
            },
            cancellationToken);

    private async Task WatchClosedAsync(Socks5UdpAssociation association, ProxySession session, CancellationToken cancellationToken)
    {
        try
        {
            var end = await association.Closed.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (end != Socks5AssociationEnd.Disposed && !_outcome.Task.IsCompleted)
            {
                string why = _closingReason is { } reason ? $" ({reason})" : end == Socks5AssociationEnd.ConnectionReset ? " (connection reset)" : string.Empty;
                console.Say($"proxy {session.ProxyText} ended the UDP association{why}.");
                _outcome.TrySetResult(ExitCodes.ProxyFailed);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
