namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>
/// Every test project derives one test class from this, so each checks its own assembly: a test
/// whose attribute's discoverer does not load there fails this test instead of silently not
/// running (see <see cref="DiscovererCheck"/>).
/// </summary>
public abstract class DiscoveryGuard
{
    [Fact]
    public void EveryTestAttribute_NamesADiscovererThatLoads() =>
        Assert.Empty(DiscovererCheck.Unresolved(GetType().Assembly));
}
