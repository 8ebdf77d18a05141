using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary><c>s5nc tun --route CIDR …</c>: a transparent UDP gateway through the proxy for programs that know nothing of SOCKS.</summary>
internal static class TunCommand
{
    public const string Examples = """
          sudo s5nc tun --route 192.0.2.0/24 --route 2001:db8::/32 -x 10.0.0.1:1080      then, unchanged: nc -u -z 192.0.2.7 53; traceroute -n 192.0.2.7
          sudo SOCKS5_PASSWORD=... s5nc tun -x socks5://alice@proxy.example:1080 --route 0.0.0.0/0 --name proxy0
          sudo kill -USR1 $(pidof s5nc)                                                    prints the counters
        """;

    public static Command Create(CommonOptions common, CliConsole console)
    {
        var routes = new Option<IPNetwork[]>("--route", "-r")
        {
            Description = "A prefix whose UDP goes through the proxy (repeat for more; IPv4 and IPv6). Other protocols to it keep their routes.",
            HelpName = "CIDR",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
            CustomParser = ParseRoutes,
        };
        var name = new Option<string>("--name")
        {
            Description = "The TUN device's name (1 to 15 characters).",
            HelpName = "DEV",
            DefaultValueFactory = _ => "s5tun0",
        };
        var mtu = new Option<int>("--mtu")
        {
            Description = "The device's MTU (1280 to 65535).",
            HelpName = "N",
            DefaultValueFactory = _ => 1500,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 1280 or > 65535) { r.AddError("--mtu: a number from 1280 to 65535."); } } },
        };
        var idle = Seconds.Create("--idle", null, "A program socket idle this long releases its mapping (UNMAP); RFC 4787 REQ-5 asks for at least 120.", 120, allowZero: false);
        var finishedIdle = Seconds.Create("--finished-idle", null,
            "The same for a socket whose every datagram was answered, when all went to well-known ports (DNS, NTP) or all carried a TTL its program chose (trace probes).", 10, allowZero: false);
        var maxFlows = new Option<int>("--max-flows")
        {
            Description = "Program sockets holding a mapping at once; datagrams from more are dropped, with one log line, until one is released.",
            HelpName = "N",
            DefaultValueFactory = _ => new UplinkSettings().MaxFlows,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 65536) { r.AddError("--max-flows: a number from 1 to 65536."); } } },
        };
        var forwarded = new Option<bool>("--capture-forwarded")
        {
            Description = "Also take UDP this host forwards (containers, VMs, the LAN) to the routed prefixes; it then rides this proxy's credentials.",
        };
        var udpOverTcp = new UdpOverTcpOption(UdpOverTcpMode.Auto);

        var command = new Command("tun", "A transparent UDP gateway: a TUN device takes the UDP that programs on this host send to the routed prefixes, and it goes "
            + "through the proxy, each program socket with an external port of its own. Replies come back as UDP, and every notice as the ICMP error "
            + "the program would have had going direct, so nc -u -z, traceroute, tracepath and connected sockets work unchanged. Linux, needs CAP_NET_ADMIN; "
            + "runs until SIGINT/SIGTERM, then removes its device, rules and routes. Exit 5: the host could not be set up.")
        {
            routes, name, mtu, idle, finishedIdle, maxFlows, forwarded, udpOverTcp.Option,
        };
        command.SetAction((result, cancellationToken) => new TunRunner(console).RunAsync(
            new TunRequest(
                result.GetRequiredValue(routes),
                result.GetRequiredValue(name),
                result.GetValue(mtu),
                result.GetValue(forwarded),
                new UplinkSettings
                {
                    Idle = Seconds.ToTimeSpan(result.GetValue(idle)),
                    FinishedIdle = Seconds.ToTimeSpan(result.GetValue(finishedIdle)),
                    MaxFlows = result.GetValue(maxFlows),
                }),
            common.CreateSession(result, console, udpOverTcp),
            cancellationToken));
        return command;
    }

    /// <summary>Every --route as a prefix; host bits set are an error (.NET would mask them silently, and the user may have meant another prefix).</summary>
    private static IPNetwork[] ParseRoutes(ArgumentResult result)
    {
        var parsed = new List<IPNetwork>();
        foreach (var token in result.Tokens)
        {
            string text = token.Value;
            int slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) || !IPNetwork.TryParse(text, out var network))
            {
                result.AddError($"--route: '{text}' is not a prefix (as 192.0.2.0/24 or 2001:db8::/32).");
                continue;
            }

            if (!network.BaseAddress.Equals(address))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--route: '{text}' has host bits set; the prefix is {network}."));
                continue;
            }

            parsed.Add(network);
        }

        return [.. parsed];
    }
}
