using System.CommandLine;
using System.CommandLine.Parsing;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// <c>s5nc doctor</c>: why UDP through a SOCKS5 proxy does or does not work, stage by stage,
/// against any SOCKS5 server (README, "s5nc doctor").
/// </summary>
internal static class DoctorCommand
{
    /// <summary>Enough for every stage against a distant proxy; --idle adds its own time on top.</summary>
    public const double DefaultTimeoutSeconds = 30;

    public const string Examples = """
          s5nc doctor --proxy 10.0.0.1:1080 --target 192.0.2.7:7      every stage, with an echo responder for the round trip and the path MTU
          s5nc doctor --dns 192.0.2.53                                  a real DNS query as the round trip
          s5nc doctor --closed 192.0.2.7:33434                          a closed port: proves the path through a server that sends notices
          s5nc doctor --target 192.0.2.7:7 --stun 192.0.2.9:3478        and the relay's NAT mapping and filtering (RFC 4787)
          s5nc doctor --target 192.0.2.7:7 --idle 150 --json            and a 150 s quiet period; one JSON object per stage
        """;

    public static Command Create(CommonOptions common, CliConsole console)
    {
        var target = Endpoint("--target", "An echo responder (RFC 862) or any UDP service that answers, as HOST:PORT: the round trip, and the path MTU when it echoes.", null);
        var dns = Endpoint("--dns", "A DNS server, as HOST or HOST:PORT (port 53): a real DNS query as the round trip.", 53);
        var closed = Endpoint("--closed", "A UDP port known to be closed, as HOST:PORT: through a server that sends notices, its port-unreachable proves the path.", null);
        var stun = Endpoint("--stun", "A STUN server with two addresses (RFC 5780, or RFC 3489 such as stund), as HOST:PORT (port 3478): the relay's NAT mapping and filtering.", 3478);
        var idle = Seconds.Create("--idle", null, "Check that an association survives this many quiet seconds (not tested by default: it takes minutes).", 0, allowZero: false);
        var timeout = Seconds.Create("--timeout", "-t", $"The bound on the whole run (default {DefaultTimeoutSeconds} s, plus --idle).", DefaultTimeoutSeconds, allowZero: false);
        var json = new Option<bool>("--json") { Description = "One JSON object per stage on stdout (number, stage, verdict, saw, fix, details), then one with the result and the failing stage." };

        var command = new Command("doctor", "Tell why UDP through a SOCKS5 proxy works or not, against any SOCKS5 server: one line per stage "
            + "(proxy reachable, authentication, UDP ASSOCIATE, relay address, datagrams relayed, notices, UDP over TCP, NAT, path MTU, idle), "
            + "each ok, warn, fail or unknown, with what to change. Exit 0 when every stage is ok or warn, 1 when the path beyond the relay failed, "
            + "3 when the proxy side failed, 4 when authentication failed.")
        {
            target, dns, closed, stun, idle, timeout, json,
        };

        command.SetAction(async (result, cancellationToken) =>
        {
            var family = common.Family(result);
            double? idleSeconds = result.GetResult(idle) is null or { Implicit: true } ? null : result.GetValue(idle);
            double total = result.GetResult(timeout) is null or { Implicit: true } ? DefaultTimeoutSeconds + (idleSeconds ?? 0) : result.GetValue(timeout);
            var request = new DoctorRequest
            {
                Target = await LocalAsync(result.GetValue(target), family, cancellationToken).ConfigureAwait(false),
                Dns = await LocalAsync(result.GetValue(dns), family, cancellationToken).ConfigureAwait(false),
                Closed = await LocalAsync(result.GetValue(closed), family, cancellationToken).ConfigureAwait(false),
                Stun = await LocalAsync(result.GetValue(stun), family, cancellationToken).ConfigureAwait(false),
                Idle = idleSeconds is { } s ? Seconds.ToTimeSpan(s) : null,
                Timeout = Seconds.ToTimeSpan(total),
                Json = result.GetValue(json),
            };
            var session = common.CreateSession(result, console);
            return await new DoctorRunner(console, request, session.Options).RunAsync(cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>With -4/-6 a name is resolved here, as every s5nc command does; otherwise the proxy resolves it.</summary>
    private static async Task<DoctorTarget?> LocalAsync(DoctorTarget? target, System.Net.Sockets.AddressFamily? family, CancellationToken cancellationToken)
    {
        if (target is null || family is null || target.Address is not null)
        {
            return target;
        }

        string resolved = await DestinationHost.ResolveAsync(target.Host, family, cancellationToken).ConfigureAwait(false);
        return DoctorTarget.TryParse(resolved, target.Port, out _) ?? target;
    }

    private static Option<DoctorTarget?> Endpoint(string name, string description, int? defaultPort) => new(name)
    {
        Description = description,
        HelpName = defaultPort is null ? "HOST:PORT" : "HOST[:PORT]",
        CustomParser = result =>
        {
            // Without a DefaultValueFactory the parser is also asked for the value of an absent option.
            if (result.Tokens.Count == 0)
            {
                return null;
            }

            string text = result.Tokens[^1].Value;
            var parsed = DoctorTarget.TryParse(text, defaultPort, out string? error);
            if (parsed is null)
            {
                result.AddError($"{name}: {error}");
            }

            return parsed;
        },
    };
}
