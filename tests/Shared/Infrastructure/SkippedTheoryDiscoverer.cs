using Xunit.Abstractions;
using Xunit.Sdk;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>Discovers the environment-dependent theories; one that skips becomes a <see cref="SkippedTestCase"/> that says why.</summary>
public sealed class SkippedTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    public const string TypeName = "Socks5UdpRelay.Tests.Shared.Infrastructure." + nameof(SkippedTheoryDiscoverer);

    protected override IEnumerable<IXunitTestCase> CreateTestCasesForSkip(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute, string skipReason)
        => [SkippedTestCase.ForSkip(DiagnosticMessageSink, discoveryOptions, testMethod, theoryAttribute)!];
}
