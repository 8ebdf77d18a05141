using System.Net;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Addressing;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Policy;

/// <summary>Where the relay may send: built-in safe defaults first, then the operator's rules, first match wins. Pure: nothing is sent.</summary>
public sealed class DestinationPolicyTests
{
    private static readonly IPEndPoint[] LoopbackListener = [IPEndPoint.Parse("127.0.0.1:1080")];
    private static readonly IPEndPoint[] PublicListener = [IPEndPoint.Parse("0.0.0.0:1080")];

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("::1", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("169.254.1.1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00:ec2::254", false)]
    [InlineData("192.0.2.7", true)]
    [InlineData("2001:db8::7", true)]
    public void Defaults_WithLoopbackListener(string address, bool allowed)
        => Assert.Equal(allowed, Policy(new PolicyOptions(), LoopbackListener).IsAllowed(Key(address, 53)));

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("192.0.2.7", true)]
    public void LoopbackAuto_IsDeniedOnceAnyListenerIsNotLoopback(string address, bool allowed)
        => Assert.Equal(allowed, Policy(new PolicyOptions(), [.. LoopbackListener, .. PublicListener]).IsAllowed(Key(address, 53)));

    [Theory]
    [InlineData("allow", "127.0.0.1", true)]
    [InlineData("deny", "127.0.0.1", false)]
    [InlineData("allow", "::1", true)]
    public void LoopbackSetting_OverridesAuto(string setting, string address, bool allowed)
        => Assert.Equal(allowed, Policy(new PolicyOptions { LoopbackDestinations = setting }, PublicListener).IsAllowed(Key(address, 53)));

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("fe80::1")]
    [InlineData("fd00:ec2::254")]
    public void LinkLocalAndMetadata_AllowedOnlyWhenConfigured(string address)
        => Assert.True(Policy(new PolicyOptions { AllowLinkLocalDestinations = true }, LoopbackListener).IsAllowed(Key(address, 80)));

    [Theory]
    [InlineData("10.1.2.3", 53, false)]
    [InlineData("10.1.2.3", 123, true)]
    [InlineData("10.1.2.3", 124, false)]
    [InlineData("192.0.2.1", 53, true)]
    [InlineData("2001:db8::1", 25, false)]
    [InlineData("2001:db8::1", 26, true)]
    public void Rules_FirstMatchWins(string address, int port, bool allowed)
    {
        var options = new PolicyOptions
        {
            Destinations =
            [
                new() { Action = "allow", Network = "10.0.0.0/8", Ports = "123" },
                new() { Action = "deny", Network = "10.0.0.0/8" },
                new() { Action = "deny", Network = "2001:db8::/32", Ports = "25,465" },
            ],
        };
        Assert.Equal(allowed, Policy(options, LoopbackListener).IsAllowed(Key(address, port)));
    }

    [Fact]
    public void DefaultDeny_WithAllowRules_IsAnAllowList()
    {
        var options = new PolicyOptions { DefaultDestinationAction = "deny", Destinations = [new() { Action = "allow", Network = "192.0.2.0/24", Ports = "1000-2000" }] };
        var policy = Policy(options, LoopbackListener);
        Assert.True(policy.IsAllowed(Key("192.0.2.9", 1500)));
        Assert.False(policy.IsAllowed(Key("192.0.2.9", 999)));
        Assert.False(policy.IsAllowed(Key("198.51.100.1", 1500)));
    }

    [Fact]
    public void BroadAllowRule_CannotOpenLoopbackOrMetadata()
    {
        var options = new PolicyOptions { LoopbackDestinations = "deny", Destinations = [new() { Action = "allow", Network = "0.0.0.0/0" }] };
        var policy = Policy(options, LoopbackListener);
        Assert.False(policy.IsAllowed(Key("127.0.0.1", 53)));
        Assert.False(policy.IsAllowed(Key("169.254.169.254", 80)));
    }

    [Theory]
    [InlineData("permit", "10.0.0.0/8", "", "Action")]
    [InlineData("deny", "10.0.0.1/8", "", "Network")]
    [InlineData("deny", "10.0.0.0/8", "0", "Ports")]
    [InlineData("deny", "10.0.0.0/8", "600-500", "Ports")]
    [InlineData("deny", "10.0.0.0/8", "70000", "Ports")]
    public void BadRule_IsRejectedNamingThePart(string action, string network, string ports, string part)
    {
        Assert.Null(DestinationRule.TryParse(action, network, ports, out string? error));
        Assert.StartsWith(part, error);
    }

    [Theory]
    [InlineData("203.0.113.5", 53)] // the host's own address, any port
    [InlineData("2001:db8:5::5", 1)]
    [InlineData("224.0.0.1", 53)] // multicast
    [InlineData("239.255.255.250", 1900)]
    [InlineData("ff02::1", 53)]
    [InlineData("255.255.255.255", 53)] // broadcast
    [InlineData("203.0.113.255", 53)] // the host subnet's broadcast
    public void ReachableListener_RefusesTheHostsOwnAddresses_MulticastAndBroadcast(string address, int port)
        => Assert.False(Policy(new PolicyOptions { AllowClients = ["192.0.2.0/24"] }, PublicListener).IsAllowed(Key(address, port)));

    [Theory]
    [InlineData("203.0.113.5")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    public void LoopbackListener_KeepsTodaysRules_ForTheHostsAddressesAndMulticast(string address)
        => Assert.True(Policy(new PolicyOptions(), LoopbackListener).IsAllowed(Key(address, 53)));

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    public void UnspecifiedAddress_IsRefusedInEveryConfiguration(string address)
    {
        // s5nc's --udp-over-tcp=auto relies on it: its probe to 0.0.0.0:9 must always draw UDP-DENIED (the README, "UDP over TCP").
        var allowAll = new PolicyOptions
        {
            LoopbackDestinations = "allow",
            AllowLinkLocalDestinations = true,
            Destinations = [new() { Action = "allow", Network = "0.0.0.0/0" }, new() { Action = "allow", Network = "::/0" }],
        };
        foreach (var options in new[] { new PolicyOptions(), allowAll })
        {
            foreach (var listeners in new[] { LoopbackListener, PublicListener })
            {
                Assert.False(Policy(options, listeners).IsAllowed(Key(address, 9)));
            }
        }
    }

    [Fact]
    public void OwnEndpoints_AreRefusedInEveryConfiguration_OtherPortsOfLoopbackAreNot()
    {
        var local = Host();
        var own = new OwnEndpoints(local);
        own.Add(IPEndPoint.Parse("127.0.0.1:1080"));
        own.Add(IPEndPoint.Parse("0.0.0.0:9180"));
        var policy = DestinationPolicy.Create(new PolicyOptions { LoopbackDestinations = "allow" }, LoopbackListener, own, local);
        Assert.False(policy.IsAllowed(Key("127.0.0.1", 1080)));
        Assert.True(policy.IsAllowed(Key("127.0.0.2", 1080))); // the listener is bound to 127.0.0.1 alone
        Assert.False(policy.IsAllowed(Key("127.0.0.1", 9180))); // a wildcard endpoint is reached at loopback ...
        Assert.False(policy.IsAllowed(Key("203.0.113.5", 9180))); // ... and at the host's addresses
        Assert.True(policy.IsAllowed(Key("127.0.0.1", 1081)));
    }

    [Fact]
    public void AddressAddedLater_IsRefusedOnceTheInterfacesAreReadAgain()
    {
        var addresses = new List<(IPAddress, IPAddress?)> { (IPAddress.Parse("203.0.113.5"), IPAddress.Parse("255.255.255.0")) };
        var local = new LocalAddresses(() => addresses.ToArray());
        var policy = DestinationPolicy.Create(new PolicyOptions(), PublicListener, new OwnEndpoints(local), local);
        Assert.True(policy.IsAllowed(Key("198.51.100.9", 53)));
        addresses.Add((IPAddress.Parse("198.51.100.9"), IPAddress.Parse("255.255.255.255")));
        local.Refresh();
        Assert.False(policy.IsAllowed(Key("198.51.100.9", 53)));
    }

    private static LocalAddresses Host() => new(() =>
    [
        (IPAddress.Parse("203.0.113.5"), IPAddress.Parse("255.255.255.0")),
        (IPAddress.Parse("2001:db8:5::5"), null),
        (IPAddress.Loopback, IPAddress.Parse("255.0.0.0")),
    ]);

    private static DestinationPolicy Policy(PolicyOptions options, IReadOnlyList<IPEndPoint> listeners)
    {
        var local = Host();
        return DestinationPolicy.Create(options, listeners, new OwnEndpoints(local), local);
    }

    private static DestinationKey Key(string address, int port) => DestinationKey.From(IPAddress.Parse(address), port);
}
