using Xunit;
using Xunit.Sdk;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>
/// A fact that needs root only, to run a program as another user (setpriv), as the container
/// emulation does: no namespaces, nft or iptables. Skips with the reason otherwise, unless
/// <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer(SkippedFactDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
public sealed class RootUserFactAttribute : FactAttribute
{
    public RootUserFactAttribute() => Skip = Requirements.RootSkipReason;
}
