namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>One bound for every await in these tests: long enough for a loaded CI machine, short enough to fail a hang.</summary>
internal static class TestTimeout
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);

    public static CancellationToken Token() => new CancellationTokenSource(Default).Token;

    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task Bounded(this Task task) => task.WaitAsync(Default);

    public static Task<T> Bounded<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Default);
}
