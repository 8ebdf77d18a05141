using System.Runtime.InteropServices;
using Socks5UdpRelay.Server;

namespace Socks5UdpRelay.Benchmarks.Native;

/// <summary>
/// epoll(7) for the load generator's workers, over the server's own native calls (Interop.Sys):
/// one thread waits on many sockets without the runtime's own epoll thread and thread-pool hop in
/// between, so the load side stays cheap.
/// </summary>
internal sealed unsafe class Epoll : IDisposable
{
    private readonly Interop.SafeDescriptorHandle _epoll;
    private readonly Interop.EpollEventAligned* _events;
    private readonly int _maxEvents;

    public Epoll(int maxEvents)
    {
        _epoll = Interop.Sys.EpollCreate();
        if (_epoll.IsInvalid)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _maxEvents = maxEvents;
        _events = (Interop.EpollEventAligned*)NativeMemory.AllocZeroed((nuint)maxEvents, (nuint)sizeof(Interop.EpollEventAligned));
    }

    public void Add(SafeHandle socket, ulong data)
    {
        if (Interop.Sys.EpollControl(_epoll, Interop.EpollConstants.EPOLL_CTL_ADD, socket, Interop.EpollConstants.EPOLLIN, data) != 0)
        {
            throw new InvalidOperationException($"epoll_ctl failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/>; returns how many entries <see cref="DataAt"/> can read.</summary>
    public int Wait(int timeoutMs)
    {
        int n = Interop.Sys.EpollWait(_epoll, _events, _maxEvents, timeoutMs);
        return n < 0 ? 0 : n; // EINTR: the caller loops anyway
    }

    public ulong DataAt(int index) => Interop.Sys.EpollEventIsPacked
        ? ((Interop.EpollEventPacked*)_events)[index].Data
        : _events[index].Data;

    public void Dispose()
    {
        _epoll.Dispose();
        NativeMemory.Free(_events);
    }
}
