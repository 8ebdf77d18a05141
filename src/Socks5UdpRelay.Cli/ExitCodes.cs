namespace Socks5UdpRelay.Cli;

/// <summary>The exit codes the README gives for s5nc ("The CLI: s5nc"); scripts depend on them.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The destination refused or was unreachable (a UDP-ERROR or UDP-UNRESOLVED notice), or a probed host could not be probed.</summary>
    public const int Unreachable = 1;

    public const int Usage = 2;

    /// <summary>The proxy could not be reached, refused the request, refused a datagram, or ended the association.</summary>
    public const int ProxyFailed = 3;

    public const int AuthenticationFailed = 4;

    /// <summary>Ended by SIGINT or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
