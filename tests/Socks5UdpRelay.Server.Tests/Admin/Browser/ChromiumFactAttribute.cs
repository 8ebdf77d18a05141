using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;
using Xunit.Sdk;

namespace Socks5UdpRelay.Server.Tests.Admin.Browser;

/// <summary>
/// A fact that drives Debian's Chromium (package chromium). Skips with the reason when it is not
/// installed, unless <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c>: then it runs and fails, saying so.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer(SkippedFactDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute() => Skip = Requirements.SkipReason(Chromium.Missing, Requirements.RequireAll);
}
