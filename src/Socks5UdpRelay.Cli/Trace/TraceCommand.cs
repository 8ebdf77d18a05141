using System.CommandLine;

namespace Socks5UdpRelay.Cli.Trace;

/// <summary><c>s5nc trace HOST</c>: traceroute through the proxy, from the relay outwards.</summary>
internal static class TraceCommand
{
    public const int DefaultMaxHops = 30;
    public const int DefaultQueries = 3;
    public const double DefaultWaitSeconds = 5;

    public const string Examples = """
          s5nc trace 192.0.2.7                         like traceroute -n: a port per probe from 33434 up
          s5nc trace 192.0.2.7 --port 53               like traceroute -U -p 53: every probe to port 53, one at a time
          s5nc trace -x 10.0.0.1:1080 host.example -m 15 -q 1 -w 2
          s5nc trace 2001:db8::7 --json | jq -r 'select(.kind=="ttl-exceeded") | .from'
        """;

    public static Command Create(CommonOptions common, CliConsole console)
    {
        var host = new Argument<string>("HOST") { Description = "A name (resolved by the proxy unless -4/-6) or an address." };
        var port = new Option<int?>("--port")
        {
            Description = "Send every probe to this UDP port, one probe at a time (like traceroute -U -p PORT). Default: a port per probe, 33434 and up.",
            HelpName = "port",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (!PortArgument.TryParse(text, out int value))
                {
                    result.AddError($"--port: '{text}' is not a UDP port (1 to 65535).");
                    return null;
                }

                return value;
            },
        };
        var maxHops = Counts.Create("--max-hops", "-m", "The largest TTL to probe with.", DefaultMaxHops, min: 1, max: 255);
        var queries = Counts.Create("--queries", "-q", "Probes per hop.", DefaultQueries, min: 1, max: 10);
        var wait = Seconds.Create("--wait", "-w", "How long each probe waits for its answer; a probe left unanswered shows as *.", DefaultWaitSeconds, allowZero: false);
        var json = new Option<bool>("--json") { Description = "One JSON object per hop on stdout: ttl, from, rtt_ms (one per probe), kind." };
        var udpOverTcp = new UdpOverTcpOption(UdpOverTcpMode.Off);

        var command = new Command("trace", "Trace the route from the proxy's relay to HOST, like traceroute: probes with TTL 1, 2, … and the router that "
            + "reports each one's end (ttl-exceeded), up to the destination's port-unreachable or reply. Needs a proxy that offers commands=set. "
            + "Exit codes: 0 destination reached, 1 not reached, 2 usage error, 3 proxy unreachable, refused, or without commands=set, 4 authentication failed.")
        {
            host, port, maxHops, queries, wait, json, udpOverTcp.Option,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var request = new TraceRequest(
                result.GetRequiredValue(host),
                common.Family(result),
                result.GetValue(port),
                result.GetValue(maxHops),
                result.GetValue(queries),
                Seconds.ToTimeSpan(result.GetValue(wait)),
                result.GetValue(json));
            return new TraceRunner(console).RunAsync(request, common.CreateSession(result, console, udpOverTcp), cancellationToken);
        });
        return command;
    }
}
