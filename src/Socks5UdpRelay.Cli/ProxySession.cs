using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// Opens UDP associations the way every command wants: proxy failures turned into the
/// documented exit codes with one readable line, and the handshake told on stderr with --verbose.
/// </summary>
internal sealed class ProxySession(Socks5ProxyOptions options, CliConsole console, bool verbose)
{
    public Socks5ProxyOptions Options { get; } = options;

    public bool Verbose { get; } = verbose;

    public string ProxyText { get; } = ProxyConfiguration.Display(options);

    public async Task<Socks5UdpAssociation> OpenAsync(CancellationToken cancellationToken)
    {
        long started = console.Time.GetTimestamp();
        Socks5UdpAssociation association;
        try
        {
            association = await Socks5UdpAssociation.OpenAsync(Options, cancellationToken).ConfigureAwait(false);
        }
        catch (Socks5Exception e)
        {
            throw ToCliException(e);
        }

        if (Verbose)
        {
            double ms = console.Time.GetElapsedTime(started).TotalMilliseconds;
            string user = Options.Credentials is { } c ? $" as {c.UserName}" : string.Empty;
            console.Say($"proxy {ProxyText}{user}: UDP association open in {ms:0.0} ms, relay {association.RelayEndPoint}, local {association.LocalEndPoint}");
        }

        return association;
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
}
