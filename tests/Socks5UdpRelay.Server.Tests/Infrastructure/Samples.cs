using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;
using Xunit.Sdk;

namespace Socks5UdpRelay.Server.Tests.Infrastructure;

/// <summary>Methods to discover, never run: xunit runs public classes only.</summary>
#pragma warning disable xUnit1000 // on purpose: not a test class of this run
internal sealed class Samples
#pragma warning restore xUnit1000
{
    [AlwaysSkips]
    public void SkippingFact()
    {
    }

    [AlwaysSkipsTheory]
    [InlineData(1)]
    public void SkippingTheory(int value) => Assert.Equal(1, value);

    [NeverSkips]
    public void RunningFact()
    {
    }

    [LostFact]
    public void LostFact()
    {
    }

    [XunitTestCaseDiscoverer(SkippedFactDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
    private sealed class AlwaysSkipsAttribute : FactAttribute
    {
        public AlwaysSkipsAttribute() => Skip = "no frobnicator here";
    }

    [XunitTestCaseDiscoverer(SkippedTheoryDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
    private sealed class AlwaysSkipsTheoryAttribute : TheoryAttribute
    {
        public AlwaysSkipsTheoryAttribute() => Skip = "no frobnicator here";
    }

    [XunitTestCaseDiscoverer(SkippedFactDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
    private sealed class NeverSkipsAttribute : FactAttribute;

    /// <summary>The discoverer's right name in the wrong assembly: how the namespace tests of two projects once vanished.</summary>
    [XunitTestCaseDiscoverer(SkippedFactDiscoverer.TypeName, "Socks5UdpRelay.Server.Tests")]
    private sealed class LostFactAttribute : FactAttribute;
}
