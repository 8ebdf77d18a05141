using Socks5UdpRelay.Server.Tests.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests.Trace;

/// <summary>
/// A fact that needs network namespaces (root, iproute2, nftables, iptables): skipped with the
/// reason where they are missing, unless <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c>, where it runs and
/// fails loudly. The server tests' <see cref="RootFactAttribute"/>, linked into this project, names
/// a discoverer in the server tests' assembly, which this project does not load: xunit then finds
/// no test at all under it. This one keeps xunit's own discoverer, which honours the Skip set here.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute() => Skip = Requirements.NetworkNamespacesSkipReason;
}
