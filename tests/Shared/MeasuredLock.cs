using System.Diagnostics;

namespace Socks5UdpRelay.Tests.Shared;

/// <summary>
/// One lock for every test process on this machine (a file held open exclusively: .NET takes an
/// flock for <see cref="FileShare.None"/>). Tests that measure against a bound (login times,
/// memory, a rate under a flood) hold it, and so does the heaviest work (publishing with Native
/// AOT): <c>dotnet test</c> runs the test projects side by side, and without it a measurement in
/// one project can fall on another project's compiler.
/// </summary>
public static class MeasuredLock
{
    private static readonly string LockPath = Path.Combine(Path.GetTempPath(), "socks5udprelay-tests-measured.lock");

    /// <summary>Another process's turn ends when its test does; the longest (a publish) takes a few minutes.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromMinutes(15);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static async Task<IDisposable> AcquireAsync()
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            // An flock has no waitable handle in .NET: polling, bounded in time, is the only way to wait for it.
            if (TryAcquire() is { } held)
            {
                return held;
            }

            if (waited.Elapsed > Longest)
            {
                throw new TimeoutException($"{LockPath} was held for more than {Longest}");
            }

            await Task.Delay(Poll).ConfigureAwait(false);
        }
    }

    public static IDisposable Acquire() => AcquireAsync().GetAwaiter().GetResult();

    private static FileStream? TryAcquire()
    {
        try
        {
            return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
