using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// The checks the tun tests run twice, directly and through the gateway: Debian's nc, dig,
/// traceroute and tracepath, unmodified, and a plain connected socket.
/// </summary>
internal static partial class TunChecks
{
    public const string Netcat = "nc.openbsd";
    public const string Traceroute = "traceroute.db";
    public const string Tracepath = "tracepath";
    public const string Dig = "dig";

    /// <summary>How long a socket waits for its second operation before calling it silence (REJECTs answer within milliseconds).</summary>
    private static readonly TimeSpan s_silence = TimeSpan.FromSeconds(1);

    private static readonly Lazy<ErrorSource> s_errorQueue = new(ErrorSource.Create);

    public static ProgramOutput Run(string ns, string program, IEnumerable<string> arguments, string? stdin = null)
    {
        var result = CommandRunner.Run(["ip", "netns", "exec", ns, ExternalTools.Resolve(program), .. arguments], stdin ?? string.Empty, TimeSpan.FromSeconds(60));
        return new ProgramOutput(result.ExitCode, result.StandardOutput, result.StandardError);
    }

    /// <summary><c>echo hi | nc -u -w1 TARGET 7000</c>.</summary>
    public static ProgramOutput NcEcho(TunLab lab, bool v6) =>
        Run(lab.Topology.ClientNamespace, Netcat, ["-u", "-w1", lab.Target(v6).ToString(), Port(TunLab.EchoPort)], "hi\n");

    /// <summary><c>nc -u -z -v -w1 TARGET PORT</c>.</summary>
    public static ProgramOutput NcScan(TunLab lab, bool v6, int port) =>
        Run(lab.Topology.ClientNamespace, Netcat, ["-u", "-z", "-v", "-w1", lab.Target(v6).ToString(), Port(port)]);

    /// <summary><c>dig @TARGET www.tun.test A|AAAA +short</c>.</summary>
    public static ProgramOutput DigName(TunLab lab, bool v6) =>
        Run(lab.Topology.ClientNamespace, Dig, [$"@{lab.Target(v6)}", TunLab.DnsName, v6 ? "AAAA" : "A", "+short", "+tries=1", "+time=3"]);

    /// <summary>
    /// One datagram of <paramref name="size"/> bytes from a socket in <paramref name="ns"/> connected
    /// to TARGET:<paramref name="port"/> (with the TTL given, and IP_RECVERR when asked), then a receive.
    /// </summary>
    public static SocketOutcome Socket(TunLab lab, string ns, bool v6, int port, bool recvErr, int size = 16, short? ttl = null)
    {
        var family = v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        using var socket = lab.Topology.CreateSocket(ns, family, SocketType.Dgram, ProtocolType.Udp);
        if (recvErr)
        {
            Assert.True(s_errorQueue.Value.Enable(socket.SafeHandle, family), "IP_RECVERR refused");
        }

        if (ttl is { } chosen)
        {
            socket.Ttl = chosen;
        }

        socket.ReceiveTimeout = (int)s_silence.TotalMilliseconds;
        socket.Connect(lab.Target(v6), port);
        socket.Send(new byte[size]);
        string second;
        try
        {
            socket.Receive(new byte[65_536]);
            second = "reply";
        }
        catch (SocketException e)
        {
            second = e.SocketErrorCode.ToString();
        }

        if (!recvErr)
        {
            return new SocketOutcome(second);
        }

        var reports = new List<ErrorReport>();
        s_errorQueue.Value.Read(socket.SafeHandle, 0, reports);
        if (reports.Count == 0)
        {
            return new SocketOutcome(second, "none");
        }

        var r = reports[0];
        return new SocketOutcome(second, r.ErrnoName, r.Origin.ToString(), r.IcmpType, r.IcmpCode, r.Offender?.ToString(), r.Mtu);
    }

    /// <summary><c>traceroute -n TARGET</c> (or <c>-U -p PORT</c>) in <paramref name="ns"/>, as the hops it listed: per hop, each probe's answerer (with any !X mark) or <c>*</c>.</summary>
    public static (ProgramOutput Output, IReadOnlyList<string> Hops) TraceRoute(TunLab lab, string ns, bool v6, int? udpPort = null)
    {
        lab.FlushPathMtus();
        string[] method = udpPort is { } p ? ["-U", "-p", Port(p)] : [];
        var output = Run(ns, Traceroute, [v6 ? "-6" : "-4", "-n", .. method, lab.Target(v6).ToString()]);
        var hops = new List<string>();
        foreach (var line in output.Stdout.Split('\n').Skip(1).Where(l => l.Trim().Length > 0))
        {
            var tokens = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var probes = new List<string>();
            string? current = null;
            foreach (var token in tokens.Skip(1))
            {
                // Not IPAddress.TryParse alone: it takes a time such as 0.382 for an IPv4 address.
                if ((token.Contains(':', StringComparison.Ordinal) || token.Count(c => c == '.') == 3) && IPAddress.TryParse(token, out _))
                {
                    current = token;
                }
                else if (token == "*")
                {
                    probes.Add("*");
                }
                else if (token == "ms")
                {
                    probes.Add(current ?? "?");
                }
                else if (token.StartsWith('!') && probes.Count > 0)
                {
                    probes[^1] += token;
                }
            }

            hops.Add($"{tokens[0]} {string.Join(' ', probes)}");
        }

        return (output, hops);
    }

    /// <summary><c>tracepath -n TARGET</c> in <paramref name="ns"/>, its lines without the round-trip times.</summary>
    public static (ProgramOutput Output, IReadOnlyList<string> Lines) TracePath(TunLab lab, string ns, bool v6)
    {
        lab.FlushPathMtus();
        var output = Run(ns, Tracepath, [v6 ? "-6" : "-4", "-n", lab.Target(v6).ToString()]);
        var lines = output.Stdout.Split('\n')
            .Select(l => Spaces().Replace(Times().Replace(l, " "), " ").Trim())
            .Where(l => l.Length > 0)
            .ToList();
        return (output, lines);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\d+\.\d+ms")]
    private static partial Regex Times();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
