namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>Bounds for every await in the tests, so a missing event fails a test instead of hanging the run.</summary>
public static class TestTimeouts
{
    /// <summary>
    /// 10 s: long enough for the slowest expected event (an ARP/ND failure at a router takes
    /// about 3 s on Linux) on a loaded 2-core CI machine, short enough that a hang is visible.
    /// </summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);
}
