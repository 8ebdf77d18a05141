using Xunit.Sdk;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>
/// A fact that runs independent programs from Debian (a peer SOCKS server, stund), named by path.
/// Skips, saying which are missing, unless <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c> (as CI sets), where
/// it runs and fails loudly instead. <c>.ci/run</c> installs every one of them.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer(SkippedFactDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
public sealed class PeerFactAttribute : FactAttribute
{
    public PeerFactAttribute(params string[] programs) =>
        Skip = Requirements.SkipReason(Requirements.ProgramsMissing(programs, File.Exists), Requirements.RequireAll);
}
