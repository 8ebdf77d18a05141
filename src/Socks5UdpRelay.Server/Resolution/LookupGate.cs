namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// A cap on lookups in flight across the whole server (<c>Relay:MaxConcurrentLookups</c>): past
/// it a lookup is refused at once (<c>UDP-UNRESOLVED reason=busy</c>) instead of queueing, so a
/// client spraying names that never resolve costs a bounded number of lookups, never threads or
/// memory, and never anyone else's login. A slot is held until the lookup itself has ended, not
/// merely until someone stopped waiting for it.
/// </summary>
internal sealed class LookupGate(int capacity)
{
    private int _inFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _inFlight) <= capacity)
        {
            return true;
        }

        Interlocked.Decrement(ref _inFlight);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);
}
