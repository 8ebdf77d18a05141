using System.Text.RegularExpressions;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// <c>s5nc tun</c>'s life on a host: SIGTERM leaves nothing behind, a start after SIGKILL removes
/// what the killed one left, a host it cannot set up is one line and exit 5, the proxy unreachable
/// is exit 3, and against proxies without MAP or without notices it still relays and says so.
/// </summary>
[Collection(TunCollection.Name)]
public sealed partial class TunLifecycleTests(TunLab lab) : IClassFixture<TunLab>
{
    [RootFact]
    public async Task SigTerm_RemovesTheDeviceRulesRoutesAndNftTable()
    {
        string before = HostState();
        var tun = await lab.StartTunAsync();
        string running = HostState();

        int exit = await TunLab.StopAsync(tun);

        Assert.Equal(0, exit);
        Assert.Contains("s5tun0", running, StringComparison.Ordinal);
        Assert.Contains("lookup 5350", running, StringComparison.Ordinal);
        Assert.Contains("s5tun_s5tun0", running, StringComparison.Ordinal);
        Assert.Equal(before, HostState());
    }

    [RootFact]
    public async Task AfterSigKill_TheNextStartRemovesWhatTheKilledOneLeft()
    {
        string before = HostState();
        var killed = await lab.StartTunAsync();
        killed.Dispose(); // SIGKILL: no clean-up at all
        string left = HostState();
        Assert.NotEqual(before, left);
        Assert.DoesNotContain("s5tun0", Links(), StringComparison.Ordinal); // the device dies with its process

        var next = await lab.StartTunAsync();
        var echo = TunChecks.NcEcho(lab, v6: false);
        int exit = await TunLab.StopAsync(next);

        Assert.Contains("routing rules left by an earlier gateway", next.Output, StringComparison.Ordinal);
        Assert.Equal("hi\n", echo.Stdout);
        Assert.Equal(0, exit);
        Assert.Equal(before, HostState());
    }

    [RootFact]
    public async Task TheProxyInsideARoutedPrefix_ItsOwnDatagramsNeverLoopIntoTheDevice()
    {
        // 10.201.0.0/16 holds the proxy (10.201.1.1) and its relay port as well as the target.
        var tun = await lab.StartTunAsync("--proxy", lab.Proxy, "--route", "10.201.0.0/16");

        var echo = TunChecks.NcEcho(lab, v6: false);
        TunChecks.Run(lab.Topology.ClientNamespace, "kill", ["-USR1", tun.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await tun.WaitForOutputAsync("counters: device read=");
        await TunLab.StopAsync(tun);

        Assert.Equal("hi\n", echo.Stdout);
        // The program's one datagram entered the device; none of the gateway's own datagrams to the relay did.
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(tun.Output, "counters: device read=1 datagrams=1 "), tun.Output);
    }

    [RootFact]
    public async Task SigUsr1_PrintsTheCounters()
    {
        var tun = await lab.StartTunAsync();
        TunChecks.NcEcho(lab, v6: false);

        TunChecks.Run(lab.Topology.ClientNamespace, "kill", ["-USR1", tun.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await tun.WaitForOutputAsync("counters: device read=");
        await TunLab.StopAsync(tun);

        var counters = CountersLine().Match(tun.Output);
        Assert.True(counters.Success, tun.Output);
        Assert.NotEqual("0", counters.Groups["datagrams"].Value);
        Assert.NotEqual("0", counters.Groups["replies"].Value);
    }

    [RootFact]
    public void WithoutCapNetAdmin_ItSaysSoInOneLine_AndExitsFive()
    {
        string before = HostState();

        // Root, but with CAP_NET_ADMIN out of the bounding set: no capability to create a TUN device.
        var result = TunChecks.Run(lab.Topology.ClientNamespace, "setpriv",
            ["--bounding-set=-net_admin", "--inh-caps=-net_admin", NetnsTopology.DotNetHost, Fixtures.CliRun.S5ncDll, "tun", "--proxy", lab.Proxy, "--route", TunLab.Routes[0]]);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal("s5nc: tun: creating TUN device s5tun0 was refused: the gateway needs CAP_NET_ADMIN\n", result.Stderr);
        Assert.Equal(before, HostState());
    }

    [RootFact]
    public void WithoutTunSupport_ItSaysSoInOneLine_AndExitsFive()
    {
        // /dev/net hidden under an empty tmpfs, in a mount namespace of its own: as on a kernel without the tun module.
        var result = TunChecks.Run(lab.Topology.ClientNamespace, "unshare",
            ["--mount", "--", "sh", "-c", "mount -t tmpfs tmpfs /dev/net && exec \"$@\"", "sh",
                NetnsTopology.DotNetHost, Fixtures.CliRun.S5ncDll, "tun", "--proxy", lab.Proxy, "--route", TunLab.Routes[0]]);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal("s5nc: tun: /dev/net/tun does not exist: the kernel's tun module is missing (modprobe tun)\n", result.Stderr);
    }

    [RootFact]
    public async Task ProxyUnreachable_ExitsThree_AndLeavesNothingBehind()
    {
        string before = HostState();
        var tun = lab.Topology.StartDotNet(lab.Topology.ClientNamespace, Fixtures.CliRun.S5ncDll,
            ["tun", "--proxy", $"{lab.Topology.Relay.V4}:1", "--route", TunLab.Routes[0]], new Dictionary<string, string?> { ["SOCKS5_PROXY"] = null });

        int exit = await tun.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exit == 3, tun.Output);
        Assert.True(tun.Output.Contains($"s5nc: Could not connect to the proxy at {lab.Topology.Relay.V4}:1: Connection refused", StringComparison.Ordinal), tun.Output);
        Assert.Equal(before, HostState());
    }

    [RootFact]
    public async Task AgainstAProxyWithoutMap_EachSocketHasAnAssociation_AndErrorsStillCome()
    {
        await using var server = await lab.StartServerAsync(1081, "--Relay:Commands=off");
        var tun = await lab.StartTunAsync("--proxy", $"{lab.Topology.Relay.V4}:1081", "--route", TunLab.Routes[0]);

        var echo = TunChecks.NcEcho(lab, v6: false);
        var refused = TunChecks.NcScan(lab, v6: false, TunLab.ClosedPort);
        await TunLab.StopAsync(tun);

        Assert.Equal("hi\n", echo.Stdout);
        Assert.Equal(1, refused.ExitCode);
        Assert.Single(Regex.Matches(tun.Output, "the proxy does not offer MAP"));
        Assert.Contains("an association per program socket; notices", tun.Output, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task AgainstAProxyWithoutNotices_ItRelays_AndSaysOnceThatErrorsCannotBeReported()
    {
        await using var server = await lab.StartServerAsync(1082, "--Relay:Notices=off");
        var tun = await lab.StartTunAsync("--proxy", $"{lab.Topology.Relay.V4}:1082", "--route", TunLab.Routes[0]);

        var echo = TunChecks.NcEcho(lab, v6: false);
        var scan = TunChecks.NcScan(lab, v6: false, TunLab.ClosedPort);
        await TunLab.StopAsync(tun);

        Assert.Equal("hi\n", echo.Stdout);
        Assert.Equal(0, scan.ExitCode); // nothing says the port is closed: nc takes silence for open, as through any such proxy
        Assert.Single(Regex.Matches(tun.Output, "cannot be reported to programs"));
    }

    [RootFact]
    public async Task AgainstDante_ItRelays_AndSaysOnceThatErrorsCannotBeReported()
    {
        await using var dante = await DanteInNamespace.StartAsync(lab.Topology, 1083);
        var tun = await lab.StartTunAsync("--proxy", $"{lab.Topology.Relay.V4}:1083", "--route", TunLab.Routes[0]);

        var echo = TunChecks.NcEcho(lab, v6: false);
        var traced = TunChecks.Run(lab.Topology.ClientNamespace, TunChecks.Traceroute, ["-n", "-q", "1", "-w", "1", "-m", "3", lab.Target(false).ToString()]);
        await TunLab.StopAsync(tun);

        Assert.True(echo.Stdout == "hi\n", $"{echo}\n{tun.Output}\n{dante.Log}");
        Assert.Single(Regex.Matches(tun.Output, "cannot be reported to programs"));
        Assert.DoesNotContain(lab.Topology.Router1.V4.ToString(), traced.Stdout, StringComparison.Ordinal); // no hops: no errors come back
    }

    /// <summary>Everything the gateway may touch in the client namespace, as text.</summary>
    private string HostState()
    {
        var t = lab.Topology;
        var ns = t.ClientNamespace;
        return string.Join("\n---\n",
            Links(),
            t.Exec(ns, "ip", "-4", "rule", "show"),
            t.Exec(ns, "ip", "-6", "rule", "show"),
            t.Exec(ns, "ip", "-4", "route", "show", "table", "all"),
            t.Exec(ns, "ip", "-6", "route", "show", "table", "all"),
            t.Exec(ns, "nft", "list", "ruleset"));
    }

    private string Links() => lab.Topology.Exec(lab.Topology.ClientNamespace, "ip", "-o", "link", "show");

    [GeneratedRegex(@"counters: device read=\d+ datagrams=(?<datagrams>\d+) .* replies=(?<replies>\d+) ")]
    private static partial Regex CountersLine();
}
