namespace Socks5UdpRelay.Server.Transport;

internal static class RelayLoopExtensions
{
    /// <summary>Runs <paramref name="work"/> on the loop and completes when it has run (or thrown).</summary>
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
                completion.TrySetException(e);
                throw;
            }
        }, (work, done));
        return done.Task;
    }
}
