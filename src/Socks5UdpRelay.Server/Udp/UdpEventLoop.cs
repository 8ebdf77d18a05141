using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>What the event loop calls when a registered socket is readable or has an error pending.</summary>
internal interface IReadyHandler
{
    /// <summary>Runs on the loop's thread; <paramref name="batch"/> is the loop's own, valid during the call.</summary>
    void OnReady(bool error, DatagramBatch batch);
}

/// <summary>
/// The relay's UDP sockets on one epoll instance and one thread (Linux). A ready socket is
/// drained right there, into one reused batch of buffers: no async machinery per socket (which costs memory
/// for every idle association), and no zero-byte peek and re-arm around every datagram (which
/// costs two system calls per wake-up). Level-triggered, so a budget-limited drain resumes on
/// the next wait. A closed socket leaves epoll by itself; its registration id then finds no
/// handler and the event is ignored.
/// </summary>
internal sealed partial class UdpEventLoop : IDisposable
{
    private const int EpollIn = 0x001;
    private const int EpollErr = 0x008;
    private const int EpollCtlAdd = 1;
    private const int EpollCloexec = 0x80000;
    private const int EIntr = 4;
    private const int MaxEvents = 256;

    // struct epoll_event is packed on x86-64 (12 bytes: events at 0, data at 4) and naturally
    // aligned elsewhere (16 bytes: data at 8).
    private static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private readonly ConcurrentDictionary<ulong, IReadyHandler> _handlers = new();
    private readonly int _epoll;
    private readonly Thread _thread;
    private readonly DatagramBatch _batch = new();
    private long _nextId;
    private volatile bool _stopping;

    private readonly Action<Exception> _onFault;

    private UdpEventLoop(int epoll, string name, Action<Exception> onFault)
    {
        _epoll = epoll;
        _onFault = onFault;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>A running loop, or null where epoll is not available (the relay then uses async socket loops).</summary>
    public static UdpEventLoop? TryCreate(string name, Action<Exception> onFault)
    {
        if (!OperatingSystem.IsLinux() || (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)))
        {
            return null;
        }

        int epoll = EpollCreate1(EpollCloexec);
        return epoll < 0 ? null : new UdpEventLoop(epoll, name, onFault);
    }

    /// <summary>Watches <paramref name="socket"/> for input and errors; returns the registration id, or 0 if the kernel refused.</summary>
    public unsafe ulong Add(Socket socket, IReadyHandler handler)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextId);
        _handlers[id] = handler;
        var handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            byte* ev = stackalloc byte[16];
            *(uint*)ev = EpollIn | EpollErr;
            *(ulong*)(ev + DataOffset) = id;
            if (EpollCtl(_epoll, EpollCtlAdd, (int)handle.DangerousGetHandle(), ev) == 0)
            {
                return id;
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        _handlers.TryRemove(id, out _);
        return 0;
    }

    /// <summary>Forgets a handler; call before disposing its socket (closing the socket removes it from epoll).</summary>
    public void Remove(ulong id) => _handlers.TryRemove(id, out _);

    public void Dispose()
    {
        _stopping = true;
        // epoll_wait wakes every second to see this; the thread is a background one either way.
    }

    private void Run()
    {
        try
        {
            Wait();
        }
        finally
        {
            _batch.Dispose(); // this thread's alone: no handler runs after it
        }
    }

    private unsafe void Wait()
    {
        byte* events = stackalloc byte[MaxEvents * 16];
        while (!_stopping)
        {
            int ready = EpollWait(_epoll, events, MaxEvents, 1000);
            if (ready < 0)
            {
                if (Marshal.GetLastPInvokeError() == EIntr)
                {
                    continue;
                }

                return;
            }

            for (int i = 0; i < ready; i++)
            {
                byte* ev = events + (i * EventSize);
                uint mask = *(uint*)ev;
                ulong id = *(ulong*)(ev + DataOffset);
                if (_handlers.TryGetValue(id, out var handler))
                {
                    try
                    {
                        handler.OnReady((mask & EpollErr) != 0, _batch);
                    }
                    catch (ObjectDisposedException)
                    {
                        // Closed under the loop by another thread: that handler is gone.
                    }
                    catch (Exception e)
                    {
                        // One association's fault must not stop every other association's datagrams.
                        _onFault(e);
                    }
                }
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static unsafe partial int EpollCtl(int epoll, int op, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static unsafe partial int EpollWait(int epoll, byte* events, int maxEvents, int timeout);
}
