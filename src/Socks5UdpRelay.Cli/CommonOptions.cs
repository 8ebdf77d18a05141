using System.CommandLine;
using System.Net.Sockets;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// The options every command takes (the README, "The CLI: s5nc"). They are recursive on the
/// root command, so they may come before or after the command name and show in each command's help.
/// </summary>
internal sealed class CommonOptions
{
    public const double DefaultConnectTimeoutSeconds = 5;

    public Option<string?> Proxy { get; } = new("--proxy", "-x")
    {
        Description = "The SOCKS5 proxy: host:port, [v6]:port or socks5://[user@]host:port. "
            + "Default: the SOCKS5_PROXY environment variable, else 127.0.0.1:1080.",
        HelpName = "proxy",
        Recursive = true,
    };

    public Option<string?> PasswordEnv { get; } = new("--password-env")
    {
        Description = "Read the proxy password from this environment variable. "
            + "Default: SOCKS5_PASSWORD, else a prompt on a terminal. Never give it as an argument.",
        HelpName = "NAME",
        Recursive = true,
    };

    public Option<bool> IPv4 { get; } = new("-4")
    {
        Description = "Resolve HOST here and send an IPv4 address (default: the proxy resolves names).",
        Recursive = true,
    };

    public Option<bool> IPv6 { get; } = new("-6")
    {
        Description = "Resolve HOST here and send an IPv6 address.",
        Recursive = true,
    };

    public Option<double> ConnectTimeout { get; } = Seconds.Create(
        "--connect-timeout", null, "Seconds the TCP connect and the SOCKS handshake with the proxy may take.", DefaultConnectTimeoutSeconds, allowZero: false);

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Report the handshake and every notice line on stderr.",
        Recursive = true,
    };

    public CommonOptions()
    {
        ConnectTimeout.Recursive = true;
    }

    public void AddTo(Command root)
    {
        root.Options.Add(Proxy);
        root.Options.Add(PasswordEnv);
        root.Options.Add(IPv4);
        root.Options.Add(IPv6);
        root.Options.Add(ConnectTimeout);
        root.Options.Add(Verbose);
    }

    /// <summary>
    /// The proxy, credentials and timeout these options name, and the command's --udp-over-tcp
    /// (<see cref="UdpOverTcpOption"/>; UDP only for a command without it); a <see cref="CliException"/> for a usage error.
    /// </summary>
    public ProxySession CreateSession(ParseResult result, CliConsole console, UdpOverTcpOption? udpOverTcp = null) => new(
        ProxyConfiguration.Resolve(result.GetValue(Proxy), result.GetValue(PasswordEnv), Seconds.ToTimeSpan(result.GetValue(ConnectTimeout)), console),
        console,
        result.GetValue(Verbose),
        udpOverTcp?.ValueOf(result) ?? UdpOverTcpMode.Off);

    /// <summary>-4, -6, or neither (names go to the proxy).</summary>
    public AddressFamily? Family(ParseResult result) => (result.GetValue(IPv4), result.GetValue(IPv6)) switch
    {
        (true, true) => throw CliException.Usage("-4 and -6 cannot be used together."),
        (true, false) => AddressFamily.InterNetwork,
        (false, true) => AddressFamily.InterNetworkV6,
        _ => null,
    };
}
