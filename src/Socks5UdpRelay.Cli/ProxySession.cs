using System.Globalization;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// Opens UDP associations the way every command wants: proxy failures turned into the
/// documented exit codes with one readable line, the handshake told on stderr with --verbose,
/// and the transport chosen by --udp-over-tcp. With <see cref="UdpOverTcpMode.Auto"/> the first
/// association decides for the whole run (the README, "The CLI": "UDP over TCP").
/// </summary>
internal sealed class ProxySession(Socks5ProxyOptions options, CliConsole console, bool verbose, UdpOverTcpMode udpOverTcp = UdpOverTcpMode.Off)
{
    /// <summary>
    /// How long auto waits for the <c>NOTICES</c> greeting at least. A server that sends one writes
    /// it right behind its reply, so it comes within a round trip; the handshake took three, and
    /// when it took longer than this, its duration is waited instead.
    /// </summary>
    public static readonly TimeSpan GreetingWait = TimeSpan.FromMilliseconds(200);

    /// <summary>How long auto waits at least for the notice its probe datagram must draw; twice the handshake's duration when that is longer.</summary>
    public static readonly TimeSpan PathWait = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private Task<Socks5UdpTransport>? _decided;

    public Socks5ProxyOptions Options { get; } = options;

    public bool Verbose { get; } = verbose;

    public UdpOverTcpMode UdpOverTcp { get; } = udpOverTcp;

    public string ProxyText { get; } = ProxyConfiguration.Display(options);

    /// <summary>
    /// An association over the transport --udp-over-tcp names. With auto, the first caller opens
    /// one over UDP and checks the path on it (<see cref="Socks5UdpAssociation.CheckUdpPathAsync"/>):
    /// kept when UDP reaches the relay or nothing can be told, else replaced by one over TCP, said
    /// once on stderr; callers meanwhile and after open over the transport it settled on.
    /// </summary>
    public async Task<Socks5UdpAssociation> OpenAsync(CancellationToken cancellationToken)
    {
        if (UdpOverTcp != UdpOverTcpMode.Auto)
        {
            return await OpenOverAsync(UdpOverTcp == UdpOverTcpMode.On ? Socks5UdpTransport.Tcp : Socks5UdpTransport.Udp, cancellationToken).ConfigureAwait(false);
        }

        var decision = new TaskCompletionSource<Socks5UdpTransport>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<Socks5UdpTransport>? earlier;
        lock (_gate)
        {
            earlier = _decided;
            _decided ??= decision.Task;
        }

        if (earlier is not null)
        {
            return await OpenOverAsync(await earlier.ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var (association, transport) = await DecideAsync(keep: true, cancellationToken).ConfigureAwait(false);
            decision.TrySetResult(transport);
            return association!;
        }
        catch (Exception e)
        {
            // Whoever waited tries for themselves; the next one decides afresh.
            lock (_gate)
            {
                _decided = null;
            }

            decision.TrySetException(e);
            throw;
        }
    }

    /// <summary>
    /// The transport --udp-over-tcp settles on, for a command that opens associations of its own
    /// kind (a gateway): for auto, a first association over UDP checks the path and is closed.
    /// </summary>
    public async Task<Socks5UdpTransport> ChooseTransportAsync(CancellationToken cancellationToken)
    {
        if (UdpOverTcp != UdpOverTcpMode.Auto)
        {
            return UdpOverTcp == UdpOverTcpMode.On ? Socks5UdpTransport.Tcp : Socks5UdpTransport.Udp;
        }

        return (await DecideAsync(keep: false, cancellationToken).ConfigureAwait(false)).Transport;
    }

    /// <summary>With --verbose, every notice line exactly as the proxy wrote it.</summary>
    public void Trace(Notice notice)
    {
        if (Verbose)
        {
            console.Say($"notice: {notice.Line}");
        }
    }

    public CliException ToCliException(Socks5Exception e)
    {
        // The library's messages often name the proxy already; say which proxy only where they do not.
        string message = e.Message.Contains(ProxyText, StringComparison.Ordinal) ? e.Message : $"proxy {ProxyText}: {e.Message}";
        return new CliException(e.Kind == Socks5ErrorKind.AuthenticationFailed ? ExitCodes.AuthenticationFailed : ExitCodes.ProxyFailed, message);
    }

    private static string SecondsText(TimeSpan time) => time.TotalSeconds.ToString("0.0##", CultureInfo.InvariantCulture);

    /// <summary>Auto: UDP, checked; over TCP when the check found UDP blocked. Returns the association when <paramref name="keep"/>.</summary>
    private async Task<(Socks5UdpAssociation? Association, Socks5UdpTransport Transport)> DecideAsync(bool keep, CancellationToken cancellationToken)
    {
        long started = console.Time.GetTimestamp();
        var udp = await OpenOverAsync(Socks5UdpTransport.Udp, cancellationToken).ConfigureAwait(false);
        Socks5UdpPath path;
        TimeSpan answerWait;
        try
        {
            var handshake = console.Time.GetElapsedTime(started);
            var greetingWait = handshake > GreetingWait ? handshake : GreetingWait;
            answerWait = 2 * handshake > PathWait ? 2 * handshake : PathWait;
            path = await CheckAsync(udp, greetingWait, answerWait, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await udp.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (path != Socks5UdpPath.Blocked)
        {
            if (!keep)
            {
                await udp.DisposeAsync().ConfigureAwait(false);
                return (null, Socks5UdpTransport.Udp);
            }

            return (udp, Socks5UdpTransport.Udp);
        }

        await udp.DisposeAsync().ConfigureAwait(false);
        console.Say($"no notice answered a datagram sent to the relay {udp.RelayEndPoint} within {SecondsText(answerWait)} s (UDP to it looks blocked): "
            + $"falling back to UDP over TCP ({UdpOverTcpOption.Name}=off keeps UDP).");

        // Opened even when not kept: a proxy without it says so now, in the next line
        // ("UDP over TCP is not offered by this proxy"), not at the caller's first association.
        var tcp = await OpenOverAsync(Socks5UdpTransport.Tcp, cancellationToken).ConfigureAwait(false);
        if (!keep)
        {
            await tcp.DisposeAsync().ConfigureAwait(false);
        }

        return (keep ? tcp : null, Socks5UdpTransport.Tcp);
    }

    private async Task<Socks5UdpPath> CheckAsync(Socks5UdpAssociation udp, TimeSpan greetingWait, TimeSpan answerWait, CancellationToken cancellationToken)
    {
        bool greeted;
        try
        {
            greeted = await udp.NoticesSupported.WaitAsync(greetingWait, console.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            greeted = false;
        }

        if (!greeted)
        {
            if (Verbose)
            {
                console.Say($"proxy {ProxyText} sent no NOTICES greeting within {SecondsText(greetingWait)} s: {UdpOverTcpOption.Name}=auto cannot tell whether UDP "
                    + "reaches its relay (silence proves nothing there), and stays with UDP.");
            }

            return Socks5UdpPath.Unknown;
        }

        long started = console.Time.GetTimestamp();
        var path = await udp.CheckUdpPathAsync(answerWait, cancellationToken).ConfigureAwait(false);
        if (Verbose && path == Socks5UdpPath.Reaches)
        {
            console.Say($"UDP reaches the relay {udp.RelayEndPoint}: a notice answered the probe datagram in {console.Time.GetElapsedTime(started).TotalMilliseconds:0.0} ms.");
        }

        return path;
    }

    private async Task<Socks5UdpAssociation> OpenOverAsync(Socks5UdpTransport transport, CancellationToken cancellationToken)
    {
        long started = console.Time.GetTimestamp();
        Socks5UdpAssociation association;
        try
        {
            association = await Socks5UdpAssociation.OpenAsync(Options, transport, cancellationToken).ConfigureAwait(false);
        }
        catch (Socks5Exception e)
        {
            throw ToCliException(e);
        }

        if (Verbose)
        {
            double ms = console.Time.GetElapsedTime(started).TotalMilliseconds;
            string user = Options.Credentials is { } c ? $" as {c.UserName}" : string.Empty;
            console.Say(transport == Socks5UdpTransport.Udp
                ? $"proxy {ProxyText}{user}: UDP association open in {ms:0.0} ms, relay {association.RelayEndPoint}, local {association.LocalEndPoint}"
                : $"proxy {ProxyText}{user}: UDP over TCP open in {ms:0.0} ms, "
                    + $"{(association.NoticesSupported is { IsCompleted: true, Result: false } ? "datagrams only (the proxy did not take up the notices opt-in)" : "notices and commands as control frames")}, "
                    + $"local {association.LocalEndPoint}");
        }

        return association;
    }
}
