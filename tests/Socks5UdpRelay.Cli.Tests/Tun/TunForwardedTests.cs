using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// UDP the gateway's host forwards (a LAN host, a container) stays out of the device unless
/// <c>--capture-forwarded</c> asks for it; with it, such a host's nc gets its echo and its refusal
/// through the proxy, the replies routed back to it rather than into the device again.
/// </summary>
[Collection(TunCollection.Name)]
public sealed class TunForwardedTests(TunLab lab) : IClassFixture<TunLab>
{
    [RootFact]
    public async Task ForwardedUdp_EntersTheDevice_OnlyWithCaptureForwarded()
    {
        var t = lab.Topology;
        string lan = t.Prefix + "lan";
        CommandRunner.RunChecked(["ip", "netns", "add", lan]);
        try
        {
            CommandRunner.RunChecked(["ip", "link", "add", "to-lan", "netns", t.ClientNamespace, "type", "veth", "peer", "name", "to-client", "netns", lan]);
            t.Exec(t.ClientNamespace, "ip", "addr", "add", "10.201.9.1/24", "dev", "to-lan");
            t.Exec(t.ClientNamespace, "ip", "link", "set", "to-lan", "up");
            t.Exec(t.ClientNamespace, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
            CommandRunner.RunChecked(["ip", "-n", lan, "addr", "add", "10.201.9.2/24", "dev", "to-client"]);
            CommandRunner.RunChecked(["ip", "-n", lan, "link", "set", "to-client", "up"]);
            CommandRunner.RunChecked(["ip", "-n", lan, "link", "set", "lo", "up"]);
            CommandRunner.RunChecked(["ip", "-n", lan, "route", "add", "default", "via", "10.201.9.1"]);
            string target = lab.Target(false).ToString();

            var local = await lab.StartTunAsync();
            var notCaptured = TunChecks.Run(lan, TunChecks.Netcat, ["-u", "-w1", target, TunLab.EchoPort.ToString(System.Globalization.CultureInfo.InvariantCulture)], "from the lan\n");
            await TunLab.StopAsync(local);

            var capturing = await lab.StartTunAsync("--proxy", lab.Proxy, "--route", TunLab.Routes[0], "--capture-forwarded");
            var echo = TunChecks.Run(lan, TunChecks.Netcat, ["-u", "-w1", target, TunLab.EchoPort.ToString(System.Globalization.CultureInfo.InvariantCulture)], "from the lan\n");
            var refused = TunChecks.Run(lan, TunChecks.Netcat, ["-u", "-z", "-v", "-w1", target, TunLab.ClosedPort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await TunLab.StopAsync(capturing);

            // Without the option the LAN's datagram goes its old way, to a relay that forwards nothing.
            Assert.Equal(string.Empty, notCaptured.Stdout);
            Assert.True(echo.Stdout == "from the lan\n", $"{echo}\n{capturing.Output}");
            Assert.True(refused.ExitCode == 1, $"{refused}\n{capturing.Output}");
            Assert.Contains("flow 1.0 opened for 10.201.9.2:", capturing.Output, StringComparison.Ordinal);
        }
        finally
        {
            t.Exec(t.ClientNamespace, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0");
            CommandRunner.Run(["ip", "netns", "delete", lan]);
        }
    }
}
