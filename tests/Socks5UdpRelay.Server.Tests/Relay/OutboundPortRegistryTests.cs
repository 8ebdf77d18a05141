using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>The outbound port registry: no two associations share a port, and a released port rests before it is handed out again.</summary>
public sealed class OutboundPortRegistryTests
{
    [Fact]
    public void HeldPort_IsNeverHandedOutTwice()
    {
        var ports = new Queue<int>([40_001, 40_001, 40_002]);
        var registry = new OutboundPortRegistry(new ManualTimeProvider(), () => ports.Dequeue());
        Assert.Equal(40_001, registry.Allocate());
        Assert.Equal(40_002, registry.Allocate()); // the kernel offered 40001 again: it is ours already
    }

    [Fact]
    public void ReleasedPort_RestsWhileAnotherWillDo_ThenIsFreeAgain()
    {
        var time = new ManualTimeProvider();
        var offers = new Queue<int>([40_001, 40_001, 40_002, 40_001]);
        var registry = new OutboundPortRegistry(time, () => offers.Dequeue());
        Assert.Equal(40_001, registry.Allocate());
        registry.Release(40_001);

        Assert.Equal(40_002, registry.Allocate()); // a late reply for the old association must not reach a new one
        time.Advance(OutboundPortRegistry.Quarantine);
        Assert.Equal(40_001, registry.Allocate());
    }

    [Fact]
    public void OnlyRestingPortsOnOffer_OneIsHandedOutRatherThanNone()
    {
        var registry = new OutboundPortRegistry(new ManualTimeProvider(), () => 40_001);
        Assert.Equal(40_001, registry.Allocate());
        registry.Release(40_001);
        Assert.Equal(40_001, registry.Allocate()); // churn must never end in "no free port"
        Assert.Equal(0, registry.Allocate());      // but a held port is never handed out twice
    }

    [Fact]
    public void RealKernel_GivesDistinctPortsThatAreNotHeld()
    {
        var registry = new OutboundPortRegistry(TimeProvider.System);
        var ports = Enumerable.Range(0, 20).Select(_ => registry.Allocate()).ToList();
        Assert.DoesNotContain(0, ports);
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.Equal(20, registry.Count);
    }
}
