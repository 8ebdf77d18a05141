using Xunit;

namespace Socks5UdpRelay.Server.Tests.Infrastructure;

/// <summary>The theory counterpart of <see cref="RootFactAttribute"/>: same preconditions, same skip rule.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute() => Skip = Requirements.NetworkNamespacesSkipReason;
}
