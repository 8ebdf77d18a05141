using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// What the relay topology tests do with an association: send one datagram and time the notice it
/// draws, compare a notice with the one the README prescribes (every key, nothing more), prove the
/// association still relays (an echo round trip), and print one row of the delay table.
/// </summary>
internal static class RelayNoticeProbe
{
    /// <summary>Runs <paramref name="send"/> and awaits the next notice (bounded); the time is from just before the send to the notice's arrival at the client.</summary>
    public static async Task<(Notice Notice, TimeSpan Elapsed)> SendAndAwaitNoticeAsync(Socks5UdpAssociation association, Func<ValueTask> send, string row)
    {
        var start = Stopwatch.GetTimestamp();
        await send();
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        try
        {
            var notice = await association.Notices.ReadAsync(timeout.Token);
            return (notice, Stopwatch.GetElapsedTime(start));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"{row}: no notice within {TestTimeout.Default.TotalSeconds} s.");
        }
    }

    /// <summary>Sends <paramref name="size"/> bytes to an IP destination and awaits the notice it draws.</summary>
    public static Task<(Notice Notice, TimeSpan Elapsed)> SendAndAwaitNoticeAsync(Socks5UdpAssociation association, IPEndPoint destination, string row, int size = 16) =>
        SendAndAwaitNoticeAsync(association, () => association.SendAsync(destination, Payload(size)), row);

    /// <summary>
    /// The <c>UDP-ERROR</c> fields the README prescribes: <c>dst</c> as addressed, <c>addr</c> for a
    /// name, <c>error</c>, <c>errno</c>, and, from the error queue, <c>icmp</c>/<c>icmp6</c>,
    /// <c>from</c>, <c>mtu</c> and <c>rttl</c> (null leaves a key out). With a reporter and no
    /// <paramref name="rttl"/> given, rttl is what the reporter's distance from the relay implies
    /// (<see cref="RttlFrom"/>).
    /// </summary>
    public static Dictionary<string, string> UdpError(
        string dst, string error, string errno, AddressFamily family = AddressFamily.InterNetwork, string? typeCode = null, IPAddress? from = null,
        int? mtu = null, string? addr = null, int? rttl = null)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dst"] = dst,
            ["error"] = error,
            ["errno"] = errno,
        };
        if (addr is not null)
        {
            fields["addr"] = addr;
        }

        if (typeCode is not null)
        {
            fields[family == AddressFamily.InterNetwork ? "icmp" : "icmp6"] = typeCode;
        }

        if (from is not null)
        {
            fields["from"] = from.ToString();
        }

        if (mtu is not null)
        {
            fields["mtu"] = mtu.Value.ToString(CultureInfo.InvariantCulture);
        }

        if ((rttl ?? (from is null ? null : RttlFrom(from))) is { } ttl)
        {
            fields["rttl"] = ttl.ToString(CultureInfo.InvariantCulture);
        }

        return fields;
    }

    /// <summary>
    /// The TTL an ICMP error from <paramref name="reporter"/> arrives with at the relay: every host
    /// here starts at 64, and each router on the way back takes one: router1 (10.201.2.2) 64,
    /// router2 (10.201.3.2) 63, the target (10.201.4.2) 62; IPv6 alike.
    /// </summary>
    public static int RttlFrom(IPAddress reporter)
    {
        byte[] bytes = reporter.GetAddressBytes();
        int subnet = reporter.AddressFamily == AddressFamily.InterNetwork ? bytes[2] : bytes[5];
        return subnet switch
        {
            2 => 64,
            3 => 63,
            4 => 62,
            _ => throw new ArgumentOutOfRangeException(nameof(reporter), reporter, "not an address of the topology's routers or target"),
        };
    }

    /// <summary>An endpoint as a notice writes it: <c>10.0.0.1:53</c>, <c>[fd00::1]:53</c>, <c>name.example:53</c>.</summary>
    public static string Endpoint(IPAddress address, int port) =>
        address.AddressFamily == AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{address}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{address}:{port}");

    public static string Endpoint(string name, int port) => string.Create(CultureInfo.InvariantCulture, $"{name}:{port}");

    /// <summary>The notice is a <c>UDP-ERROR</c> with exactly these keys and values.</summary>
    public static void AssertUdpError(IReadOnlyDictionary<string, string> expected, Notice notice)
    {
        Assert.True(notice.Verb == NoticeVerbs.UdpError, $"expected a UDP-ERROR, got `{notice.Line}`");
        var actual = notice.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}");
        var wanted = expected.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}");
        Assert.Equal(string.Join(' ', wanted), string.Join(' ', actual));
    }

    /// <summary>
    /// The association still relays: a datagram to the target's echo port comes back, and no
    /// further notice has arrived by then (each error drew exactly one).
    /// </summary>
    /// <param name="skipLargerThan">Replies longer than this are skipped (echoes of earlier datagrams that may or may not come back).</param>
    public static async Task AssertEchoAsync(Socks5UdpAssociation association, IPAddress target, string row, int skipLargerThan = int.MaxValue)
    {
        var payload = Encoding.ASCII.GetBytes($"still relaying after: {row}");
        var buffer = new byte[2048];
        await association.SendAsync(new IPEndPoint(target, RelayTopologyFixture.EchoPort), payload);
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        Socks5UdpReceiveResult result;
        try
        {
            do
            {
                result = await association.ReceiveAsync(buffer, timeout.Token);
            }
            while (result.Length > skipLargerThan);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"{row}: no echo reply within {TestTimeout.Default.TotalSeconds} s; the association stopped relaying.");
        }

        Assert.Equal(payload, buffer[..result.Length]);
        Assert.Equal(new Socks5Endpoint(target, RelayTopologyFixture.EchoPort), result.Source);
        Assert.False(association.Notices.TryRead(out var extra), $"{row}: one more notice than expected: `{extra?.Line}`");
    }

    /// <summary>One row of the delay table: <c>| row | delay ms | notice line |</c>.</summary>
    public static void Report(ITestOutputHelper output, string row, TimeSpan elapsed, Notice? notice) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {row} | {elapsed.TotalMilliseconds:F2} ms | {notice?.Line ?? "(none)"} |"));

    /// <summary>
    /// Packets the FORWARD rule for UDP port <paramref name="port"/> in <paramref name="ns"/> has matched
    /// (<c>iptables -L FORWARD -v -x -n</c>): proof that a datagram that drew no notice did reach the rule.
    /// </summary>
    public static long ForwardRulePackets(NetnsTopology topology, string ns, AddressFamily family, int port)
    {
        var listing = topology.Exec(ns, IpTables(family), "-L", "FORWARD", "-v", "-x", "-n");
        var dpt = string.Create(CultureInfo.InvariantCulture, $"dpt:{port}");
        var rule = listing.Split('\n').Single(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(dpt));
        return long.Parse(rule.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
    }

    /// <summary>The packets counted by the one <c>counter</c> in nftables table <c>inet {table}</c> in <paramref name="ns"/>.</summary>
    public static long NftCounterPackets(NetnsTopology topology, string ns, string table)
    {
        var listing = topology.Exec(ns, "nft", "list", "table", "inet", table);
        var match = System.Text.RegularExpressions.Regex.Match(listing, "counter packets ([0-9]+)");
        Assert.True(match.Success, $"no counter in table inet {table}:\n{listing}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public static byte[] Payload(int size) => Enumerable.Repeat((byte)'x', size).ToArray();

    public static string IpTables(AddressFamily family) => family == AddressFamily.InterNetwork ? "iptables" : "ip6tables";

    public static string Name(AddressFamily family) => family == AddressFamily.InterNetwork ? "IPv4" : "IPv6";
}
