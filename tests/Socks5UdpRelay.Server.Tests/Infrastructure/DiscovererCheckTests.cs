using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Infrastructure;

/// <summary>The guard every test project runs over itself (its DiscoveryTests) notices a test xunit would drop.</summary>
public sealed class DiscovererCheckTests
{
    [Fact]
    public void DiscovererInAnAssemblyNotLoaded_IsReported_OthersAreNot()
    {
        var problem = Assert.Single(DiscovererCheck.Unresolved([typeof(Samples)]));

        Assert.Contains($"{nameof(Samples.LostFact)}: [LostFactAttribute] names discoverer {SkippedFactDiscoverer.TypeName} in Socks5UdpRelay.Server.Tests, which does not load here", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void SkipAwareDiscoverers_LiveInTheAssemblyTheyName()
    {
        Assert.Equal(SkippedFactDiscoverer.AssemblyName, typeof(SkippedFactDiscoverer).Assembly.GetName().Name);
        Assert.Equal(SkippedFactDiscoverer.TypeName, typeof(SkippedFactDiscoverer).FullName);
        Assert.Equal(SkippedTheoryDiscoverer.TypeName, typeof(SkippedTheoryDiscoverer).FullName);
    }
}
