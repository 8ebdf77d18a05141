using System.CommandLine;
using System.CommandLine.Parsing;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary><c>s5nc probe HOST PORTS...</c>: nc -u -z through the proxy, with a verdict per port.</summary>
internal static class ProbeCommand
{
    public const string Examples = """
          s5nc probe 127.0.0.1 1-1000                       non-closed ports of 1000, and a summary
          s5nc probe -x 10.0.0.1:1080 192.0.2.10 53 123 161  the built-in DNS, NTP and SNMP requests
          s5nc probe 192.0.2.0/28 500,4500 --all            every port of 16 hosts, closed ones too
          s5nc probe host.example 7000-7010 --json | jq -c 'select(.state=="open")'
          s5nc probe 127.0.0.1 9999 --payload-hex 0102ff --timeout 0.5 --retries 1
        """;

    public static Command Create(CommonOptions common, CliConsole console)
    {
        var host = new Argument<string>("HOST") { Description = "A name (resolved by the proxy unless -4/-6), an address, or a CIDR block such as 127.0.0.0/30." };
        var ports = new Argument<int[]>("PORTS")
        {
            Description = "Ports: 53, 500-600, 1,2,3; several arguments allowed.",
            Arity = ArgumentArity.OneOrMore,
            CustomParser = PortList.Parse,
        };
        var payload = new Option<string?>("--payload") { Description = "Send this text (UTF-8) to every port instead of an empty datagram or a built-in request.", HelpName = "text" };
        var payloadHex = new Option<byte[]?>("--payload-hex")
        {
            Description = "Send these bytes (hex, as 0a1bff) to every port.",
            HelpName = "hex",
            CustomParser = ParseHex,
        };
        var noBuiltin = new Option<bool>("--no-builtin") { Description = "Send empty datagrams to 53, 123 and 161 too, not the built-in DNS, NTP and SNMP requests." };
        var timeout = Seconds.Create("--timeout", "-t", "How long to listen after the first datagram to a port; each retry waits twice as long.", 1, allowZero: false);
        var retries = Counts.Create("--retries", "-r", "Retries of a silent port before calling it open|filtered.", 2, min: 0, max: 20);
        var parallel = Counts.Create("--parallel", "-p", "Ports awaiting an answer at once.", 64, min: 1, max: 256);
        var maxHosts = Counts.Create("--max-hosts", null, "Largest CIDR block to expand.", HostRange.DefaultMaxHosts, min: 1, max: 65_536);
        var all = new Option<bool>("--all", "-a") { Description = "List every port in the table, closed ones too." };
        var json = new Option<bool>("--json") { Description = "One JSON object per port on stdout: host, port, state, reason, from, rtt_ms." };

        var udpOverTcp = new UdpOverTcpOption(UdpOverTcpMode.Auto);

        var command = new Command("probe", "Probe UDP ports through the proxy, like nc -u -z: open (a reply), closed (port unreachable), "
            + "filtered (another ICMP error, or the proxy refused), open|filtered (silence after retries).")
        {
            host, ports, payload, payloadHex, noBuiltin, timeout, retries, parallel, maxHosts, all, json, udpOverTcp.Option,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(payload) is not null && result.GetResult(payloadHex) is not null)
            {
                result.AddError("--payload and --payload-hex cannot be used together.");
            }
        });

        command.SetAction((result, cancellationToken) =>
        {
            // An absent array option reads as an empty array, not null: ask whether it was given.
            byte[]? data = result.GetResult(payloadHex) is not null ? result.GetValue(payloadHex)
                : result.GetValue(payload) is { } text ? System.Text.Encoding.UTF8.GetBytes(text)
                : null;
            var request = new ProbeRequest(
                result.GetRequiredValue(host),
                result.GetRequiredValue(ports),
                common.Family(result),
                result.GetValue(maxHosts),
                data,
                !result.GetValue(noBuiltin),
                new ProbePacing
                {
                    Timeout = Seconds.ToTimeSpan(result.GetValue(timeout)),
                    Retries = result.GetValue(retries),
                    MaxInFlight = result.GetValue(parallel),
                },
                result.GetValue(all),
                result.GetValue(json));
            return new ProbeRunner(console).RunAsync(request, common.CreateSession(result, console, udpOverTcp), cancellationToken);
        });
        return command;
    }

    private static byte[]? ParseHex(ArgumentResult result)
    {
        // Without a DefaultValueFactory the parser is also asked for the value of an absent option.
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        string text = result.Tokens[^1].Value;
        string digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        try
        {
            return Convert.FromHexString(digits.Replace(":", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal));
        }
        catch (FormatException)
        {
            result.AddError($"--payload-hex: '{text}' is not hex bytes (an even number of 0-9 a-f, as 0a1bff).");
            return null;
        }
    }
}
