using System.CommandLine;
using System.Net;

namespace Socks5UdpRelay.Cli.Forward;

/// <summary><c>s5nc forward --listen ADDR:PORT HOST PORT</c>: a local UDP port relayed through the proxy.</summary>
internal static class ForwardCommand
{
    public const string Examples = """
          s5nc forward --listen 127.0.0.1:5353 192.0.2.53 53      then: dig -p 5353 @127.0.0.1 example.org
          s5nc forward -l 127.0.0.1:1230 ntp.example 123 --idle 30
          s5nc forward -l [::1]:5353 -x 10.0.0.1:1080 dns.example 53
        """;

    public static Command Create(CommonOptions common, CliConsole console)
    {
        var listen = new Option<IPEndPoint>("--listen", "-l")
        {
            Description = "Local UDP address and port to listen on, as 127.0.0.1:5353 or [::1]:5353 (port 0: any free port, printed).",
            HelpName = "addr:port",
            Required = true,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (!IPEndPoint.TryParse(text, out var endpoint) || DestinationHost.ParseLiteral(text[..text.LastIndexOf(':')]) is null)
                {
                    result.AddError($"--listen: '{text}' is not ADDRESS:PORT (as 127.0.0.1:5353 or [::1]:5353).");
                    return null!;
                }

                return endpoint;
            },
        };
        var host = new Argument<string>("HOST") { Description = "Destination name or address; a name is resolved by the proxy unless -4/-6." };
        var port = PortArgument.Create("PORT", "Destination UDP port.");
        var idle = Seconds.Create("--idle", null, "Close a local peer's association after this long without traffic either way.", 60, allowZero: false);
        var maxPeers = new Option<int>("--max-peers")
        {
            Description = "Local peers served at once; datagrams from more are dropped until one goes idle.",
            HelpName = "n",
            DefaultValueFactory = _ => 64,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 1024) { r.AddError("--max-peers: a number from 1 to 1024."); } } },
        };

        var udpOverTcp = new UdpOverTcpOption(UdpOverTcpMode.Off);

        var command = new Command("forward", "Relay a local UDP port through the proxy to HOST PORT, one association per local peer, so programs "
            + "that know nothing of SOCKS (dig, ntpdate) can use it. Notices are logged on stderr; Ctrl-C ends it.")
        {
            listen, host, port, idle, maxPeers, udpOverTcp.Option,
        };
        command.SetAction((result, cancellationToken) => new ForwardRunner(console).RunAsync(
            new ForwardRequest(
                result.GetRequiredValue(listen),
                result.GetRequiredValue(host),
                result.GetValue(port),
                common.Family(result),
                Seconds.ToTimeSpan(result.GetValue(idle)),
                result.GetValue(maxPeers)),
            common.CreateSession(result, console, udpOverTcp),
            cancellationToken));
        return command;
    }
}
