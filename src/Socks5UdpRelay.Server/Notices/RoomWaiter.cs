namespace Socks5UdpRelay.Server.Notices;

/// <summary>
/// The callers of answers waiting for room in a control writer's queue (answers are never dropped:
/// their caller waits instead). Only touched under the writer's lock; nothing is allocated until
/// a caller has to wait, so an idle association holds nothing for it.
/// </summary>
internal struct RoomWaiter
{
    private TaskCompletionSource? _room;

    /// <summary>True while a caller waits.</summary>
    public readonly bool IsWaiting => _room is not null;

    /// <summary>A task that completes at the next <see cref="Release"/>.</summary>
    public ValueTask WaitAsync()
    {
        _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return new ValueTask(_room.Task);
    }

    /// <summary>Lets whoever waits go on: there is room, or the connection is done.</summary>
    public void Release()
    {
        _room?.TrySetResult();
        _room = null;
    }
}
