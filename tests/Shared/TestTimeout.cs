namespace Socks5UdpRelay.Tests.Shared;

/// <summary>The one bound on every await in the tests, so a missing event fails a test instead of hanging the run.</summary>
public static class TestTimeout
{
    /// <summary>
    /// 15 s: long enough for the slowest expected event (an ARP/ND failure at a router takes about
    /// 3 s on Linux; a program started for a test compiles its code first) on a loaded 2-core CI
    /// machine, short enough that a hang is visible.
    /// </summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    /// <summary>A token that cancels after <see cref="Default"/>.</summary>
    public static CancellationToken Token => new CancellationTokenSource(Default).Token;

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task Within(this Task task) => task.WaitAsync(Default);

    public static Task<T> Within<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Default);

    public static Task Within(this ValueTask task) => task.AsTask().WaitAsync(Default);

    /// <summary>
    /// For a counter that no event announces (a socket error noticed inside a library): checks it
    /// every 10 ms, failing after <see cref="Default"/>. The one polling wait of every test project.
    /// </summary>
    public static async Task UntilAsync(Func<bool> condition, string what = "the condition holds")
    {
        var deadline = DateTime.UtcNow + Default;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(10);
        }
    }
}
