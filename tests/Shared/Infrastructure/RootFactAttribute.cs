using Xunit;
using Xunit.Sdk;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>
/// A fact that needs root, iproute2, nftables and iptables, and a working <c>ip netns add</c>.
/// Skips with the reason when any is missing, unless <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c>
/// (xunit 2 has no runtime skip, so the decision is made when the attribute is built).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer(SkippedFactDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute() => Skip = Requirements.NetworkNamespacesSkipReason;
}
