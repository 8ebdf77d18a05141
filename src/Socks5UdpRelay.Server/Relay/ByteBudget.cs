namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// Bytes the whole server may hold for datagrams waiting on their names
/// (<c>Relay:MaxPendingNameBytes</c>); each association has its own smaller share on top. What
/// does not fit is dropped at once, so a flood of names grows memory by the budget at most.
/// </summary>
internal sealed class ByteBudget(long capacity)
{
    private long _used;

    public long Used => Interlocked.Read(ref _used);

    public bool TryTake(long bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= capacity)
        {
            return true;
        }

        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    public void Return(long bytes) => Interlocked.Add(ref _used, -bytes);
}
