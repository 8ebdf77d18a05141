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

    /// <summary>
    /// <c>s5nc tun</c> could not set up the host: no CAP_NET_ADMIN, no TUN support, a device of that
    /// name already there, or a routing command that failed (the message says which).
    /// </summary>
    public const int GatewayFailed = 5;

    /// <summary>Ended by SIGINT or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
