using System.Globalization;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// <c>s5nc tun</c> where UDP from the client to the proxy's relay is dropped (<see cref="TunUdpBlockedLab"/>):
/// with the default <c>--udp-over-tcp=auto</c> it falls back on its own, says so once, and Debian's
/// nc still gets its echo and its refusal through the gateway; with <c>=off</c> nothing comes back;
/// with <c>=on</c> against a proxy without UDP over TCP it stops with one line, exit 3.
/// </summary>
[Collection(TunCollection.Name)]
public sealed partial class TunUdpOverTcpTests(TunUdpBlockedLab lab) : IClassFixture<TunUdpBlockedLab>
{
    private static readonly string EchoPort = TunLab.EchoPort.ToString(CultureInfo.InvariantCulture);

    [RootFact]
    public async Task Auto_FallsBackOnce_AndNcGetsItsEchoAndItsRefusal()
    {
        long droppedBefore = lab.DroppedDatagrams();
        var tun = await lab.StartTunAsync();
        var echo = TunChecks.NcEcho(lab, v6: false);
        var echo6 = TunChecks.NcEcho(lab, v6: true);
        var refused = TunChecks.NcScan(lab, v6: false, TunLab.ClosedPort);
        int exit = await TunLab.StopAsync(tun);

        Assert.True(echo.Stdout == "hi\n" && echo.ExitCode == 0, $"{echo}\n{tun.Output}");
        Assert.True(echo6.Stdout == "hi\n" && echo6.ExitCode == 0, $"{echo6}\n{tun.Output}");
        // Debian's nc prints nothing for a refused UDP port, even with -v: its exit code says it (the README's table).
        Assert.True(refused.ExitCode == 1 && refused.Stdout.Length == 0, $"{refused}\n{tun.Output}");
        Assert.Single(FallbackRegex().Matches(tun.Output));
        Assert.Contains($"goes through proxy {lab.Proxy} (UDP over TCP; a mapping per program socket on shared associations; notices, SET)", tun.Output, StringComparison.Ordinal);
        Assert.True(lab.DroppedDatagrams() > droppedBefore, "auto's probe datagrams never met the firewall");
        Assert.True(exit == 0, tun.Output);
    }

    [RootFact]
    public async Task Off_TheEchoGetsNothing()
    {
        long droppedBefore = lab.DroppedDatagrams();
        var tun = await lab.StartTunAsync("--udp-over-tcp=off", "--proxy", lab.Proxy, "--route", TunLab.Routes[0]);
        var echo = TunChecks.NcEcho(lab, v6: false);
        int exit = await TunLab.StopAsync(tun);

        // As nc -u without a proxy where UDP is lost: nothing printed, no error of its own.
        Assert.True(echo.Stdout.Length == 0, $"{echo}\n{tun.Output}");
        Assert.DoesNotContain("falling back", tun.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("UDP over TCP", tun.Output, StringComparison.Ordinal);
        Assert.True(lab.DroppedDatagrams() > droppedBefore, "the echo's datagram never met the firewall");
        Assert.True(exit == 0, tun.Output);
    }

    [RootFact]
    public async Task On_AgainstAProxyWithoutIt_SaysSoInOneLine_Exit3()
    {
        var (exit, output) = await lab.RunTunToExitAsync("--udp-over-tcp", "--proxy", lab.ProxyWithoutUdpOverTcp, "--route", TunLab.Routes[0]);

        Assert.True(exit == 3, output);
        Assert.Contains(
            $"s5nc: proxy {lab.ProxyWithoutUdpOverTcp}: UDP over TCP is not offered by this proxy (it answered CMD 0x05 with REP 7, command not supported).\n",
            output, StringComparison.Ordinal);
        Assert.DoesNotContain("Ctrl-C to stop", output, StringComparison.Ordinal);
    }

    [RootFact]
    public void Send_Off_WhereThisHostsFirewallRefusesTheDatagram_SaysSoInOneLine_Exit3()
    {
        // Not tun: s5nc send in the same client namespace, whose own nftables rule refuses UDP to the relay (EPERM on send).
        var send = TunChecks.Run(lab.Topology.ClientNamespace, NetnsTopology.DotNetHost,
            [Fixtures.CliRun.S5ncDll, "send", "--udp-over-tcp=off", "--proxy", lab.Proxy, lab.Target(false).ToString(), EchoPort, "--data", "x", "--wait", "1"]);

        Assert.True(send.ExitCode == 3, send.ToString());
        Assert.Equal("s5nc: sending to the proxy's relay failed: this host refused it (Permission denied): a local firewall? --udp-over-tcp carries the datagrams over the proxy's TCP connection instead.\n", send.Stderr);
    }

    [GeneratedRegex(@"s5nc: no notice answered a datagram sent to the relay [0-9.]+:[0-9]+ within [0-9.]+ s \(UDP to it looks blocked\): falling back to UDP over TCP \(--udp-over-tcp=off keeps UDP\)\.")]
    private static partial Regex FallbackRegex();
}
