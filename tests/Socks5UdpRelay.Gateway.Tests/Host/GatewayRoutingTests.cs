using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Gateway.Routing;
using Socks5UdpRelay.Gateway.Tests.Fakes;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Gateway.Tests.Host;

/// <summary>
/// The gateway's routing in a namespace: what enters the device and what does not, why the
/// reverse-path filter passes what the gateway writes, and that start and dispose leave nothing
/// behind, even after a killed instance.
/// </summary>
public sealed class GatewayRoutingTests(TopologyFixture fixture) : IClassFixture<TopologyFixture>
{
    [RootFact]
    public void OwnMarkedSocket_BypassesTheDevice_EvenToARoutedPrefix()
    {
        var topology = fixture.Topology;
        // The proxy (here: an echo in the relay namespace) lies inside a routed prefix.
        var options = new TunGatewayOptions { Routes = [IPNetwork.Parse("10.201.1.0/24"), IPNetwork.Parse("fd00:201:1::/64")] };
        using var echo = topology.CreateSocket(topology.RelayNamespace, AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        echo.Bind(new IPEndPoint(topology.Relay.V4, 0));
        var proxy = (IPEndPoint)echo.LocalEndPoint!;
        using var run = GatewayRun.Start(topology, rpFilter: 1, options: options);
        using var marked = topology.CreateSocket(run.Namespace, AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var unmarked = topology.CreateSocket(run.Namespace, AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        run.Gateway.MarkSocket(marked);
        echo.ReceiveTimeout = marked.ReceiveTimeout = unmarked.ReceiveTimeout = (int)TestTimeout.Default.TotalMilliseconds;

        marked.SendTo("to the proxy"u8, proxy);
        var buffer = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = echo.ReceiveFrom(buffer, ref from);
        Assert.Equal("to the proxy", System.Text.Encoding.ASCII.GetString(buffer, 0, n));

        unmarked.SendTo("a program's datagram"u8, proxy);
        n = unmarked.Receive(buffer);
        Assert.Equal("a program's datagram", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
        var seen = Assert.Single(run.Uplink.Seen);
        Assert.Equal(proxy, seen.Destination);
        Assert.Equal(0, echo.Available);
    }

    [RootFact]
    public void OnlyUdpEntersTheDevice()
    {
        using var run = GatewayRun.Start(fixture.Topology, rpFilter: 1);
        using var tcp = fixture.Topology.CreateSocket(run.Namespace, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var udp = fixture.Topology.CreateSocket(run.Namespace, AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.ReceiveTimeout = (int)TestTimeout.Default.TotalMilliseconds;

        // TCP to a routed prefix keeps the main table's route (towards the relay namespace, which drops it).
        tcp.Blocking = false;
        try
        {
            tcp.Connect(IPAddress.Parse("10.203.0.9"), 80);
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.WouldBlock)
        {
        }

        udp.SendTo("udp"u8, IPEndPoint.Parse("10.203.0.9:7"));
        Assert.Equal(3, udp.Receive(new byte[16]));

        Assert.Equal(0, run.Gateway.Counters.NotUdp);
        Assert.Equal(1, run.Gateway.Counters.PacketsRead);
        Assert.Equal(IPEndPoint.Parse("10.203.0.9:7"), Assert.Single(run.Uplink.Seen).Destination);
    }

    [RootTheory]
    [InlineData(1, true, false)] // strict: every injected error dropped (the pitfall the mark fixes)
    [InlineData(2, true, true)] // loose with a default route in main: passes even without the mark
    [InlineData(2, false, false)] // loose without a default route: dropped
    public void WithoutTheDeviceMark_ReversePathFilterDecides(int rpFilter, bool defaultRoute, bool errorArrives)
    {
        var topology = fixture.Topology;
        if (!defaultRoute)
        {
            topology.Exec(topology.ClientNamespace, "ip", "route", "del", "default");
        }

        try
        {
            using var run = GatewayRun.Start(topology, rpFilter, FakeUplink.Refusing(555));
            topology.Exec(run.Namespace, "nft", "delete", "table", "inet", run.Gateway.Options.NftTableName);
            long dropsBefore = run.ReversePathDrops();

            var result = CommandRunner.Run(["ip", "netns", "exec", run.Namespace, ExternalTools.Resolve(Programs.Netcat), "-u", "-z", "-v", "-w1", "10.203.0.9", "555"]);

            Assert.Equal(errorArrives ? 1 : 0, result.ExitCode);
            Assert.Equal(errorArrives, run.ReversePathDrops() == dropsBefore);
        }
        finally
        {
            if (!defaultRoute)
            {
                topology.Exec(topology.ClientNamespace, "ip", "route", "add", "default", "via", topology.Relay.V4.ToString());
            }
        }
    }

    [RootTheory]
    [InlineData(1)]
    [InlineData(2)]
    public void WithTheDeviceMark_NoDefaultRouteIsNeeded(int rpFilter)
    {
        var topology = fixture.Topology;
        topology.Exec(topology.ClientNamespace, "ip", "route", "del", "default");
        try
        {
            using var run = GatewayRun.Start(topology, rpFilter, FakeUplink.Refusing(555));
            long dropsBefore = run.ReversePathDrops();

            var refused = CommandRunner.Run(["ip", "netns", "exec", run.Namespace, ExternalTools.Resolve(Programs.Netcat), "-u", "-z", "-v", "-w1", "10.203.0.9", "555"]);
            var echoed = CommandRunner.Run(["ip", "netns", "exec", run.Namespace, ExternalTools.Resolve(Programs.Netcat), "-u", "-w1", "10.203.0.9", "7"], "no default route\n");

            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("no default route", echoed.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(dropsBefore, run.ReversePathDrops());
        }
        finally
        {
            topology.Exec(topology.ClientNamespace, "ip", "route", "add", "default", "via", topology.Relay.V4.ToString());
        }
    }

    [RootFact]
    public void RunningGateway_HasExactlyItsRulesRoutesAndNftTable()
    {
        using var run = GatewayRun.Start(fixture.Topology, rpFilter: 1);
        var ns = run.Namespace;

        Assert.Equal(
            ["5350:\tfrom all fwmark 0x535301 iif lo lookup 5350", "5351:\tfrom all to 10.203.0.0/16 fwmark 0/0x1000000 iif lo ipproto udp lookup 5350"],
            OwnLines(fixture.Topology.Exec(ns, "ip", "-4", "rule", "show")));
        Assert.Equal(
            ["5350:\tfrom all fwmark 0x535301 iif lo lookup 5350", "5351:\tfrom all to fd00:203::/48 fwmark 0/0x1000000 iif lo ipproto udp lookup 5350"],
            OwnLines(fixture.Topology.Exec(ns, "ip", "-6", "rule", "show")));
        Assert.Contains("default dev s5tun0", fixture.Topology.Exec(ns, "ip", "-4", "route", "show", "table", "5350"), StringComparison.Ordinal);
        Assert.Contains("default dev s5tun0", fixture.Topology.Exec(ns, "ip", "-6", "route", "show", "table", "5350"), StringComparison.Ordinal);
        Assert.Contains("meta mark set 0x00535301", fixture.Topology.Exec(ns, "nft", "list", "table", "inet", "s5tun_s5tun0"), StringComparison.Ordinal);
        Assert.Equal("1", fixture.Topology.Exec(ns, "cat", "/proc/sys/net/ipv4/conf/s5tun0/src_valid_mark").Trim());
        Assert.Equal("0", fixture.Topology.Exec(ns, "cat", "/proc/sys/net/ipv4/conf/all/src_valid_mark").Trim());
    }

    [RootFact]
    public void Start_RemovesWhatAKilledInstanceLeft()
    {
        var topology = fixture.Topology;
        var ns = topology.ClientNamespace;
        var before = GatewayRun.HostState(topology);
        var options = new TunGatewayOptions { Routes = GatewayRun.DefaultRoutes };
        var plan = new RoutingPlan(options);
        // What a killed gateway leaves: its rules and nftables table (its device, and with it the table's routes, die with the process).
        foreach (var command in plan.RuleCommands())
        {
            CommandRunner.RunChecked(["ip", "-n", ns, .. command]);
        }

        CommandRunner.RunChecked(["ip", "netns", "exec", ns, ExternalTools.Resolve("nft"), "-f", "-"], plan.NftSetupScript());
        Assert.NotEqual(before, GatewayRun.HostState(topology));

        using (var run = GatewayRun.Start(topology, rpFilter: 1, expectedAfterDispose: before))
        {
            Assert.Equal(2, OwnLines(topology.Exec(ns, "ip", "-4", "rule", "show")).Count);
            Assert.Equal(1, CommandRunner.Run(["ip", "netns", "exec", ns, ExternalTools.Resolve(Programs.Netcat), "-u", "-w1", "10.203.0.9", "7"], "x\n").StandardOutput.Count(c => c == 'x'));
        }
    }

    [RootFact]
    public void FailedStart_LeavesNothingBehind_AndSaysWhyInOneLine()
    {
        var topology = fixture.Topology;
        var ns = topology.ClientNamespace;
        // IPv6 disabled on new devices while an IPv6 prefix is asked for: set-up fails half-way, at the IPv6 address.
        topology.Exec(ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
        try
        {
            var before = GatewayRun.HostState(topology);

            var exception = Assert.Throws<GatewayException>(() => NamespaceThread.Run(ns, () => TunGateway.Start(new TunGatewayOptions { Routes = GatewayRun.DefaultRoutes })));

            Assert.Equal("`ip address add fdb5:3535:5353::1/128 dev s5tun0 nodad` failed: Error: ipv6: IPv6 is disabled on this device.", exception.Message);
            Assert.DoesNotContain('\n', exception.Message);
            Assert.Equal(before, GatewayRun.HostState(topology));
        }
        finally
        {
            topology.Exec(ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=0");
        }
    }

    [Fact]
    public void InvalidOptions_FailBeforeTouchingTheHost()
    {
        var exception = Assert.Throws<GatewayException>(() => TunGateway.Start(new TunGatewayOptions()));

        Assert.StartsWith("invalid gateway options: no route given", exception.Message, StringComparison.Ordinal);
    }

    private static List<string> OwnLines(string listing) =>
        [.. listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("5350:", StringComparison.Ordinal) || l.StartsWith("5351:", StringComparison.Ordinal)).Select(l => l.TrimEnd())];
}
