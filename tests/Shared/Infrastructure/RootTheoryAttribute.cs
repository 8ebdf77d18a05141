using Xunit;
using Xunit.Sdk;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>The theory counterpart of <see cref="RootFactAttribute"/>: same preconditions, same skip rule.</summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer(SkippedTheoryDiscoverer.TypeName, SkippedFactDiscoverer.AssemblyName)]
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute() => Skip = Requirements.NetworkNamespacesSkipReason;
}
