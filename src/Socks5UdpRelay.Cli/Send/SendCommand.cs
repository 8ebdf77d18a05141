using System.CommandLine;

namespace Socks5UdpRelay.Cli.Send;

/// <summary><c>s5nc send HOST PORT</c>: nc -u through the proxy.</summary>
internal static class SendCommand
{
    public const string Examples = """
          echo hello | s5nc send 127.0.0.1 7          one datagram, the reply on stdout
          s5nc send -x 10.0.0.1:1080 ntp.example 123 --file ntp-request.bin
          s5nc send 127.0.0.1 5999 --data ping        exit code 1: Connection refused
          s5nc send dns.example 53 --file query.bin --count 5 --interval 0.2
          s5nc send -4 localhost 7 --raw < image.bin  binary input, one datagram per read
        """;

    public static Command Create(CommonOptions common, CliConsole console)
    {
        var host = new Argument<string>("HOST") { Description = "Destination name or address; a name is resolved by the proxy unless -4/-6." };
        var port = PortArgument.Create("PORT", "Destination UDP port.");
        var data = new Option<string?>("--data", "-d") { Description = "Send this text as one datagram (no newline added) instead of reading stdin.", HelpName = "text" };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Send this file's bytes as one datagram instead of reading stdin.", HelpName = "path" };
        var raw = new Option<bool>("--raw") { Description = "Read stdin as binary: each read is one datagram, not each line." };
        var wait = Seconds.Create("--wait", "-w", "After the last datagram, wait this long for replies and notices.", 1, allowZero: true);
        var keepGoing = new Option<bool>("--keep-going", "-k") { Description = "Report unreachable-destination notices but keep sending (exit code 1 at the end)." };
        var count = new Option<int>("--count", "-c")
        {
            Description = "Send the --data or --file datagram this many times.",
            HelpName = "n",
            DefaultValueFactory = _ => 1,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < 1)
                {
                    result.AddError($"--count: '{text}' is not a count (1 or more).");
                }

                return n;
            },
        };
        var interval = Seconds.Create("--interval", "-i", "Pause between datagrams sent with --count.", 1, allowZero: true);
        var anySource = new Option<bool>("--any-source", "-a")
        {
            Description = "Print each datagram's source before it (\"SOURCE: \"): replies from the destination and datagrams from anyone else the "
                + "proxy's filtering lets in (a full-cone proxy: STUN, peers, hole punching).",
        };

        var udpOverTcp = new UdpOverTcpOption(UdpOverTcpMode.Auto);

        var command = new Command("send", "Send datagrams to HOST PORT through the proxy, like nc -u: each stdin line is one datagram, replies go to stdout, "
            + "notices to stderr. An unreachable-destination notice ends it with exit code 1.")
        {
            host, port, data, file, raw, wait, keepGoing, count, interval, anySource, udpOverTcp.Option,
        };
        command.Validators.Add(result =>
        {
            bool hasData = result.GetResult(data) is not null;
            bool hasFile = result.GetResult(file) is not null;
            if (hasData && hasFile)
            {
                result.AddError("--data and --file cannot be used together.");
            }

            if (result.GetResult(raw) is not null && (hasData || hasFile))
            {
                result.AddError("--raw is about stdin; it cannot be used with --data or --file.");
            }

            if (result.GetResult(count) is { Implicit: false } && !hasData && !hasFile)
            {
                result.AddError("--count repeats one datagram: it needs --data or --file.");
            }
        });

        command.SetAction((result, cancellationToken) => new SendSession(console).RunAsync(
            new SendRequest(
                result.GetRequiredValue(host),
                result.GetValue(port),
                common.Family(result),
                result.GetValue(data),
                result.GetValue(file),
                result.GetValue(raw),
                Seconds.ToTimeSpan(result.GetValue(wait)),
                result.GetValue(keepGoing),
                result.GetValue(count),
                Seconds.ToTimeSpan(result.GetValue(interval)),
                result.GetValue(anySource)),
            common.CreateSession(result, console, udpOverTcp),
            cancellationToken));
        return command;
    }
}
