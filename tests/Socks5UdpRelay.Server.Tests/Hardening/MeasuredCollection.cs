using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// Tests that measure login times or memory against a bound: they run alone, after the rest of the
/// suite (xunit runs a collection that disables parallelization by itself), so what they measure is
/// the server under their own load, not under a hundred other tests sharing two cores. Each also
/// holds <see cref="MeasuredLock"/> (<see cref="MeasuredTest"/>), which keeps the other test
/// projects' heaviest work (a Native AOT publish) from running beside it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredCollection
{
    public const string Name = "Measured (run alone)";
}
