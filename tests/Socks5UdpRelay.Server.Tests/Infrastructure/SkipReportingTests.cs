using System.Reflection;
using Socks5UdpRelay.Server.Tests.Deployment;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Socks5UdpRelay.Server.Tests.Infrastructure;

/// <summary>A skipped test says why in the runner's default output; tests that only change user skip only without root.</summary>
public sealed class SkipReportingTests
{
    [Fact]
    public void SkippingFact_CarriesItsReasonInItsDisplayName()
    {
        var testCase = Assert.Single(new SkippedFactDiscoverer(new NullMessageSink()).Discover(new DefaultOptions(), Method(nameof(Samples.SkippingFact)), Attribute(nameof(Samples.SkippingFact))));

        Assert.Equal("no frobnicator here", testCase.SkipReason);
        Assert.EndsWith($"{nameof(Samples.SkippingFact)} (skipped: no frobnicator here)", testCase.DisplayName, StringComparison.Ordinal);
    }

    [Fact]
    public void SkippingTheory_CarriesItsReasonInItsDisplayName()
    {
        var testCase = Assert.Single(new SkippedTheoryDiscoverer(new NullMessageSink()).Discover(new DefaultOptions(), Method(nameof(Samples.SkippingTheory)), Attribute(nameof(Samples.SkippingTheory))));

        Assert.EndsWith($"{nameof(Samples.SkippingTheory)} (skipped: no frobnicator here)", testCase.DisplayName, StringComparison.Ordinal);
    }

    [Fact]
    public void RunningFact_KeepsItsName()
    {
        var testCase = Assert.Single(new SkippedFactDiscoverer(new NullMessageSink()).Discover(new DefaultOptions(), Method(nameof(Samples.RunningFact)), Attribute(nameof(Samples.RunningFact))));

        Assert.Null(testCase.SkipReason);
        Assert.EndsWith(nameof(Samples.RunningFact), testCase.DisplayName, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvironmentDependentAttributes_UseTheDiscovererThatSaysWhy()
    {
        foreach (var type in new[] { typeof(RootFactAttribute), typeof(RootUserFactAttribute), typeof(RequiresDanteFactAttribute), typeof(PeerFactAttribute), typeof(RootTheoryAttribute) })
        {
            var discoverer = type.GetCustomAttribute<XunitTestCaseDiscovererAttribute>();
            Assert.NotNull(discoverer);
        }
    }

    [Fact]
    public void DockerEmulation_NeedsRootOnly_NotNamespaceTools()
    {
        var tests = typeof(DockerfileRunTests).GetMethods().Where(m => m.GetCustomAttribute<FactAttribute>() is not null).ToList();
        Assert.DoesNotContain(tests, m => m.GetCustomAttribute<RootFactAttribute>() is not null);
        Assert.Contains(tests, m => m.GetCustomAttribute<RootUserFactAttribute>() is not null);
        Assert.Null(Requirements.RootMissingReason(isLinux: true, effectiveUserId: 0, hasSetpriv: true)); // whatever nft and iptables say
        Assert.Contains("root", Requirements.RootMissingReason(isLinux: true, effectiveUserId: 1000, hasSetpriv: true), StringComparison.Ordinal);
        Assert.Contains("setpriv", Requirements.RootMissingReason(isLinux: true, effectiveUserId: 0, hasSetpriv: false), StringComparison.Ordinal);
    }

    private static TestMethod Method(string name)
    {
        var method = typeof(Samples).GetMethod(name)!;
        var assembly = new TestAssembly(new ReflectionAssemblyInfo(typeof(Samples).Assembly));
        return new TestMethod(new TestClass(new TestCollection(assembly, null, "samples"), new ReflectionTypeInfo(typeof(Samples))), new ReflectionMethodInfo(method));
    }

    private static IAttributeInfo Attribute(string name) => Method(name).Method.GetCustomAttributes(typeof(FactAttribute)).Single();

    /// <summary>Discovery options left at their defaults.</summary>
    private sealed class DefaultOptions : ITestFrameworkDiscoveryOptions
    {
        public TValue GetValue<TValue>(string name) => default!;

        public void SetValue<TValue>(string name, TValue value)
        {
        }
    }
}
