namespace Socks5UdpRelay.Client.Tests;

/// <summary>The one bound on every await in these tests: long enough for a loaded 2-core machine, short enough to fail fast.</summary>
internal static class TestTimeout
{
    public static readonly TimeSpan Value = TimeSpan.FromSeconds(15);

    /// <summary>A token that cancels after <see cref="Value"/>.</summary>
    public static CancellationToken Token => new CancellationTokenSource(Value).Token;

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Value);

    public static Task Within(this Task task) => task.WaitAsync(Value);

    public static Task<T> Within<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Value);

    public static Task Within(this ValueTask task) => task.AsTask().WaitAsync(Value);

    /// <summary>
    /// For a counter that no event announces (a socket error noticed inside the library): checks
    /// it every 10 ms, failing after <see cref="Value"/>.
    /// </summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Value;
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
