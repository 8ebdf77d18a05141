using System.Net;
using Socks5UdpRelay.Gateway.Routing;

namespace Socks5UdpRelay.Gateway.Tests.Routing;

public sealed class RoutingPlanTests
{
    private static readonly TunGatewayOptions s_both = new()
    {
        Routes = [IPNetwork.Parse("10.203.0.0/16"), IPNetwork.Parse("fd00:203::/48"), IPNetwork.Parse("192.0.2.0/24")],
    };

    [Fact]
    public void DeviceCommands_ConfigureMtuAddressesUpAndTheTablesDefaultRoutes()
    {
        var lines = new RoutingPlan(s_both).DeviceCommands().Select(c => string.Join(' ', c)).ToList();

        Assert.Equal(
        [
            "link set dev s5tun0 mtu 1500",
            "link set dev s5tun0 addrgenmode none",
            "address add 169.254.53.53/32 dev s5tun0",
            "address add fdb5:3535:5353::1/128 dev s5tun0 nodad",
            "link set dev s5tun0 up",
            "-4 route add default dev s5tun0 table 5350",
            "-6 route add default dev s5tun0 table 5350",
        ], lines);
    }

    [Fact]
    public void RuleCommands_MarkRuleFirstThenOneUdpRulePerPrefix()
    {
        var lines = new RoutingPlan(s_both).RuleCommands().Select(c => string.Join(' ', c)).ToList();

        Assert.Equal(
        [
            "-4 rule add priority 5350 fwmark 0x535301 iif lo lookup 5350",
            "-6 rule add priority 5350 fwmark 0x535301 iif lo lookup 5350",
            "-4 rule add priority 5351 fwmark 0/0x1000000 iif lo ipproto udp to 10.203.0.0/16 lookup 5350",
            "-6 rule add priority 5351 fwmark 0/0x1000000 iif lo ipproto udp to fd00:203::/48 lookup 5350",
            "-4 rule add priority 5351 fwmark 0/0x1000000 iif lo ipproto udp to 192.0.2.0/24 lookup 5350",
        ], lines);
    }

    [Fact]
    public void CaptureForwarded_DropsIifLoFromThePrefixRulesOnly()
    {
        var options = new TunGatewayOptions { Routes = [IPNetwork.Parse("10.203.0.0/16")], CaptureForwarded = true };

        var lines = new RoutingPlan(options).RuleCommands().Select(c => string.Join(' ', c)).ToList();

        Assert.Equal(
        [
            "-4 rule add priority 5350 fwmark 0x535301 iif lo lookup 5350",
            "-4 rule add priority 5351 fwmark 0/0x1000000 ipproto udp to 10.203.0.0/16 lookup 5350",
        ], lines);
    }

    [Fact]
    public void IPv4Only_TouchesNoIPv6()
    {
        var plan = new RoutingPlan(new TunGatewayOptions { Routes = [IPNetwork.Parse("10.0.0.0/8")] });

        Assert.True(plan.HasIPv4);
        Assert.False(plan.HasIPv6);
        Assert.DoesNotContain(plan.DeviceCommands().Concat(plan.RuleCommands()), c => c.Contains("-6") || c.Contains("addrgenmode"));
    }

    [Fact]
    public void IPv6Only_NeedsNoNftablesMark()
    {
        var plan = new RoutingPlan(new TunGatewayOptions { Routes = [IPNetwork.Parse("2001:db8::/32")] });

        Assert.False(plan.HasIPv4);
        Assert.DoesNotContain(plan.DeviceCommands(), c => c.Contains("169.254.53.53/32"));
    }

    [Fact]
    public void NftScripts_MarkPacketsFromTheDeviceAndDeleteTheTableIdempotently()
    {
        var plan = new RoutingPlan(new TunGatewayOptions { DeviceName = "gw-1.a", Routes = [IPNetwork.Parse("10.0.0.0/8")] });

        var setup = plan.NftSetupScript();
        Assert.Contains("table inet s5tun_gw_1_a {", setup, StringComparison.Ordinal);
        Assert.Contains("type filter hook prerouting priority mangle; policy accept;", setup, StringComparison.Ordinal);
        Assert.Contains("iifname \"gw-1.a\" meta mark set 0x535301", setup, StringComparison.Ordinal);
        Assert.Equal("add table inet s5tun_gw_1_a\ndelete table inet s5tun_gw_1_a\n", plan.NftRemoveScript());
        Assert.Equal("/proc/sys/net/ipv4/conf/gw-1.a/src_valid_mark", plan.SourceValidMarkPath);
    }

    [Fact]
    public void OwnRules_CountsOnlyOurPrioritiesLookingUpOurTable()
    {
        const string Listing = """
            0:	from all lookup local
            5350:	from all fwmark 0x535301 lookup 5350
            5350:	from all fwmark 0x1 lookup 99
            5351:	from all to 10.203.0.0/16 fwmark 0/0x1000000 iif lo ipproto udp lookup 5350
            5351:	from all to 192.0.2.0/24 fwmark 0/0x1000000 iif lo ipproto udp lookup 5350
            5352:	from all lookup 5350
            32766:	from all lookup main
            """;

        var rules = new RoutingPlan(s_both).OwnRules(Listing);

        Assert.Equal([("5350", 1), ("5351", 2)], rules);
        Assert.Equal(
            "rule del priority 5350 lookup 5350\nrule del priority 5351 lookup 5350\nrule del priority 5351 lookup 5350\nroute flush table 5350\n",
            new RoutingPlan(s_both).RemoveScript(rules));
    }

    [Fact]
    public void Validate_DefaultsWithARoute_Pass() => Assert.Null(RoutingPlan.Validate(s_both));

    [Fact]
    public void Validate_ReportsEveryProblemInOneLine()
    {
        var problems = RoutingPlan.Validate(new TunGatewayOptions
        {
            Routes = [IPNetwork.Parse("127.0.0.0/8")],
            Mtu = 500,
            Table = 254,
            Priority = 0,
            SocketMark = 3,
            DeviceMark = 6,
            MaxFlows = 0,
        });

        Assert.NotNull(problems);
        Assert.DoesNotContain('\n', problems);
        foreach (var part in new[] { "MTU 500", "table 254", "priority 0", "marks", "127.0.0.0/8 is loopback", "MaxFlows" })
        {
            Assert.Contains(part, problems, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_NoRoute_SaysSo() =>
        Assert.Contains("no route", RoutingPlan.Validate(new TunGatewayOptions()), StringComparison.Ordinal);
}
