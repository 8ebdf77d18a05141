using Xunit.Abstractions;
using Xunit.Sdk;

namespace Socks5UdpRelay.Server.Tests.Infrastructure;

/// <summary>Discovers the environment-dependent facts; one that skips becomes a <see cref="SkippedTestCase"/> that says why.</summary>
public sealed class SkippedFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    public const string TypeName = "Socks5UdpRelay.Server.Tests.Infrastructure." + nameof(SkippedFactDiscoverer);
    public const string AssemblyName = TestAssembly.Name;

    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
        => SkippedTestCase.ForSkip(DiagnosticMessageSink, discoveryOptions, testMethod, factAttribute) ?? base.CreateTestCase(discoveryOptions, testMethod, factAttribute);
}
