namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>The one bound on every await in these tests: long enough for a loaded 2-core machine, short enough to fail fast.</summary>
internal static class TestTimeout
{
    public static readonly TimeSpan Value = TimeSpan.FromSeconds(15);

    public static CancellationToken Token => new CancellationTokenSource(Value).Token;

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Value);

    public static Task Within(this Task task) => task.WaitAsync(Value);
}
