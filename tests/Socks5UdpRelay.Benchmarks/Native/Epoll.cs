using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Benchmarks.Native;

/// <summary>
/// epoll(7) for the load generator's workers: one thread waits on many sockets without the
/// runtime's own epoll thread and thread-pool hop in between, so the load side stays cheap.
/// </summary>
internal sealed partial class Epoll : IDisposable
{
    private const int EpollCtlAdd = 1;
    private const uint EpollIn = 0x001;

    // struct epoll_event is packed on x86-64 (u32 events; u64 data = 12 bytes) and naturally
    // aligned elsewhere (16 bytes, data at 8).
    private static readonly int Stride = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private readonly int _fd;
    private readonly byte[] _events;

    public Epoll(int maxEvents)
    {
        _fd = epoll_create1(0);
        if (_fd < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _events = new byte[maxEvents * Stride];
    }

    public void Add(SafeHandle socket, ulong data)
    {
        Span<byte> ev = stackalloc byte[16];
        ev.Clear();
        BitConverter.TryWriteBytes(ev, EpollIn);
        BitConverter.TryWriteBytes(ev[DataOffset..], data);
        if (epoll_ctl(_fd, EpollCtlAdd, (int)socket.DangerousGetHandle(), ref MemoryMarshal.GetReference(ev)) != 0)
        {
            throw new InvalidOperationException($"epoll_ctl failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/>; returns how many entries <see cref="DataAt"/> can read.</summary>
    public int Wait(int timeoutMs)
    {
        int n = epoll_wait(_fd, ref MemoryMarshal.GetArrayDataReference(_events), _events.Length / Stride, timeoutMs);
        return n < 0 ? 0 : n; // EINTR: the caller loops anyway
    }

    public ulong DataAt(int index) => BitConverter.ToUInt64(_events, (index * Stride) + DataOffset);

    public void Dispose() => close(_fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, ref byte ev);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epfd, ref byte events, int maxEvents, int timeout);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
