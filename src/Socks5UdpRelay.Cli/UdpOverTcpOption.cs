using System.CommandLine;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// <c>--udp-over-tcp[=auto|on|off]</c> for a command that relays, with that command's default:
/// the option alone means <c>on</c>. The parser splits <c>--udp-over-tcp=x</c> into the option and
/// a token, exactly as <c>--udp-over-tcp x</c>, and an option cannot hand a token back to the
/// command; so <see cref="Normalize"/> first writes the option alone as <c>--udp-over-tcp=on</c>,
/// and <c>--udp-over-tcp HOST PORT</c> keeps its HOST.
/// </summary>
internal sealed class UdpOverTcpOption
{
    public const string Name = "--udp-over-tcp";

    /// <summary>The option, for a command whose default is <paramref name="defaultMode"/> (shown in its help).</summary>
    public UdpOverTcpOption(UdpOverTcpMode defaultMode)
    {
        Default = defaultMode;

        // No DefaultValueFactory: System.CommandLine would print the enum's name as the default; the description says it in the option's own words.
        Option = new Option<UdpOverTcpMode?>(Name)
        {
            Description = "Datagrams over the proxy's TCP connection (CMD 0x05, as hev-socks5-tunnel's udp: tcp), for where UDP to the proxy is blocked: "
                + "on (the option alone), off, or auto (UDP, unless a proxy that sends notices answers no probe datagram: then over TCP, said once on stderr). "
                + $"Default: {Text(defaultMode)}.",
            HelpName = "auto|on|off",
            CustomParser = result =>
            {
                // No token: the option is absent (Normalize gave every bare one its value).
                if (result.Tokens.Count == 0)
                {
                    return null;
                }

                string text = result.Tokens[^1].Value;
                if (TryParse(text, out var mode))
                {
                    return mode;
                }

                result.AddError($"{Name}: '{text}' is not auto, on or off (write {Name}=auto, =on or =off; the option alone means on).");
                return null;
            },
        };
    }

    public Option<UdpOverTcpMode?> Option { get; }

    public UdpOverTcpMode Default { get; }

    /// <summary>What the command line asked for, or the command's default.</summary>
    public UdpOverTcpMode ValueOf(ParseResult result) => result.GetValue(Option) ?? Default;

    /// <summary>The arguments with each bare <c>--udp-over-tcp</c> (before any <c>--</c>) written <c>--udp-over-tcp=on</c>.</summary>
    public static string[] Normalize(string[] args)
    {
        int end = Array.IndexOf(args, "--");
        var normalized = (string[])args.Clone();
        for (int i = 0; i < (end < 0 ? args.Length : end); i++)
        {
            if (args[i] == Name)
            {
                normalized[i] = $"{Name}=on";
            }
        }

        return normalized;
    }

    public static string Text(UdpOverTcpMode mode) => mode.ToString().ToLowerInvariant();

    private static bool TryParse(string text, out UdpOverTcpMode mode)
    {
        switch (text.ToLowerInvariant())
        {
            case "auto":
                mode = UdpOverTcpMode.Auto;
                return true;
            case "on":
                mode = UdpOverTcpMode.On;
                return true;
            case "off":
                mode = UdpOverTcpMode.Off;
                return true;
            default:
                mode = default;
                return false;
        }
    }
}
