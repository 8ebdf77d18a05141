using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>
/// Waits for a condition the server reaches on its own threads (a counter, a timer registered),
/// where no event is exposed to await; bounded by the shared test timeout, so a condition that
/// never comes fails the test instead of hanging it.
/// </summary>
internal static class Eventually
{
    public static Task TrueAsync(Func<bool> condition) => TestTimeout.UntilAsync(condition);
}
