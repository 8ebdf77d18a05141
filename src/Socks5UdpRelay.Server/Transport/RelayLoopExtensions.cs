namespace Socks5UdpRelay.Server.Transport;

internal static class RelayLoopExtensions
{
    /// <summary>Runs <paramref name="work"/> on the loop and completes when it has run, or faults with what it threw.</summary>
    public static Task InvokeAsync(this IRelayLoop loop, Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(static s =>
        {
            var (action, completion) = ((Action, TaskCompletionSource))s!;
            try
            {
                action();
                completion.TrySetResult();
            }
            catch (Exception e)
            {
                completion.TrySetException(e); // the caller's to report: it is waiting for this
            }
        }, (work, done));
        return done.Task;
    }
}
