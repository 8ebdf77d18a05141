using Xunit;
using Xunit.Sdk;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>
/// A fact that needs Dante (<c>/usr/sbin/danted</c>, package dante-server) to compare against a
/// standard SOCKS server. Skips with the reason when it is missing, unless
/// <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer(SkippedFactDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
public sealed class RequiresDanteFactAttribute : FactAttribute
{
    public RequiresDanteFactAttribute() => Skip = Requirements.DanteSkipReason;
}
