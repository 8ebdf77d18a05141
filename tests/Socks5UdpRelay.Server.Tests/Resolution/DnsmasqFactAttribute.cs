using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;
using Xunit.Sdk;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>
/// A fact that runs a real DNS server, Debian's dnsmasq (package dnsmasq-base); with
/// <c>InNamespace</c>, inside network namespaces too (root). Skips with the reason when
/// something is missing, unless <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer(SkippedFactDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
public sealed class DnsmasqFactAttribute : FactAttribute
{
    public DnsmasqFactAttribute(bool inNamespace = false) =>
        Skip = (inNamespace ? Requirements.NetworkNamespacesSkipReason : null)
            ?? Requirements.SkipReason(Dnsmasq.Missing, Requirements.RequireAll);
}
