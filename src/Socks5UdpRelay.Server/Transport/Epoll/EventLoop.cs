using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// The relay's UDP sockets on one epoll instance and one thread. A ready socket is drained right
/// there, into one reused <see cref="DatagramBatch"/>: no async machinery per socket (which costs
/// memory for every idle association) and no zero-byte peek and re-arm around every datagram.
/// Work from other threads (a resolved name, a sweep, an association's close) arrives through
/// <see cref="Post"/> and an eventfd, so everything an association does happens on this thread.
/// </summary>
internal sealed class EventLoop : IRelayLoop, ILoopStatistics, IDisposable
{
    private const int MaxEvents = 256;
    private const ulong WakeId = 0;
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(2);

    private static readonly Action<object?> Ready = static s => ((EpollSocket)s!).OnReady(error: false);
    private static readonly Action<object?> ReadyWithError = static s => ((EpollSocket)s!).OnReady(error: true);

    private readonly ConcurrentDictionary<ulong, EpollSocket> _sockets = new();
    private readonly ConcurrentQueue<(Action<object?> Work, object? State)> _posted = new();
    private readonly SafeDescriptorHandle _epoll;
    private readonly SafeDescriptorHandle _wake;
    private readonly ErrorSource _errors;
    private readonly Action<Exception> _onFault;
    private readonly Action<Exception> _onStopped;
    private readonly Thread _thread;
    private readonly Lock _stopLock = new();
    private readonly Lock _inlineLock = new();
    private long _nextId;
    private volatile bool _stopping;
    private bool _stopped;

    // Counted by this loop's thread alone and read by the metrics: no loop writes another's.
    private long _datagramsRead;
    private long _datagramsSent;
    private long _coalescedReads;
    private int _clients;

    /// <param name="index">The loop's number among the engine's loops (its thread is <c>socks5-udp-N</c>).</param>
    /// <param name="onFault">A handler failed (one association's fault; the loop goes on).</param>
    /// <param name="onStopped">The loop itself stopped on an error: nothing reads these sockets any more.</param>
    /// <param name="offload">GSO and GRO where the kernel has them (<see cref="UdpOffload.Detected"/> when not given).</param>
    public EventLoop(int index, ErrorSource errors, Action<Exception> onFault, Action<Exception> onStopped, UdpOffload? offload = null)
    {
        Index = index;
        _errors = errors;
        Offload = offload ?? UdpOffload.Detected;
        _onFault = onFault;
        _onStopped = onStopped;
        _epoll = Sys.EpollCreate();
        _wake = Sys.EventFd();
        int errno = _epoll.IsInvalid || _wake.IsInvalid ? Marshal.GetLastPInvokeError()
            : Sys.EpollControl(_epoll, EpollConstants.EPOLL_CTL_ADD, _wake, EpollConstants.EPOLLIN, WakeId) != 0 ? Marshal.GetLastPInvokeError() : 0;
        if (errno != 0)
        {
            _epoll.Dispose();
            _wake.Dispose();
            Batch.Dispose();
            SendList.Dispose();
            throw new TransportException("epoll_create1/eventfd/epoll_ctl", errno);
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"socks5-udp-{index}" };
        _thread.Start();
    }

    public int Index { get; }

    /// <summary>Datagrams read from this loop's sockets.</summary>
    public long DatagramsRead => Volatile.Read(ref _datagramsRead);

    /// <summary>Datagrams sent from this loop's sockets.</summary>
    public long DatagramsSent => Volatile.Read(ref _datagramsSent);

    /// <summary>Reads on this loop that held several datagrams (GRO).</summary>
    public long CoalescedReads => Volatile.Read(ref _coalescedReads);

    /// <summary>Segmented sends (GSO) from this loop's sockets.</summary>
    public long SegmentedSends => SendList.SegmentedSends;

    /// <summary>Segmented sends refused on this loop's sockets (their datagrams went one by one).</summary>
    public long SegmentationRefusals => SendList.Refusals;

    /// <summary>Whether this loop's sockets may send segmented (GSO) and read coalesced (GRO).</summary>
    public UdpOffload Offload { get; }

    /// <summary>Client-facing sockets on this loop: how the engine spreads new associations.</summary>
    public int Clients => Volatile.Read(ref _clients);

    /// <summary>True once the loop thread has ended (stopped or failed): nothing is read any more.</summary>
    public bool IsStopped
    {
        get
        {
            lock (_stopLock)
            {
                return _stopped;
            }
        }
    }

    /// <summary>On the loop thread: <paramref name="count"/> datagrams were read, in <paramref name="coalesced"/> reads that held several.</summary>
    internal void CountRead(int count, int coalesced = 0)
    {
        Volatile.Write(ref _datagramsRead, _datagramsRead + count);
        if (coalesced > 0)
        {
            Volatile.Write(ref _coalescedReads, _coalescedReads + coalesced);
        }
    }

    /// <summary>On the loop thread: <paramref name="count"/> datagrams were sent.</summary>
    internal void CountSent(int count) => Volatile.Write(ref _datagramsSent, _datagramsSent + count);

    /// <summary>On the loop thread: the datagram counters back to 0.</summary>
    internal void ResetCounters()
    {
        Volatile.Write(ref _datagramsRead, 0);
        Volatile.Write(ref _datagramsSent, 0);
    }

    internal void ClientOpened() => Interlocked.Increment(ref _clients);

    internal void ClientClosed() => Interlocked.Decrement(ref _clients);

    /// <summary>The loop thread's batch: every read on this loop lands here.</summary>
    internal DatagramBatch Batch { get; } = new();

    /// <summary>The loop thread's list of datagrams to send to one address or on one connected socket.</summary>
    internal SendList SendList { get; } = new();

    /// <summary>The loop thread's datagrams queued for destination sockets during one batch.</summary>
    internal Outbox Outbox { get; } = new();

    /// <summary>The loop thread's list for error reports on their way to a handler.</summary>
    internal List<ErrorReport> ErrorScratch { get; } = new(4);

    public IDestinationSocket OpenDestination(in DestinationKey destination, int localPort, IDatagramHandler handler)
        => EpollDestinationSocket.Open(destination, localPort, this, _errors, handler);

    public IInboundSocket OpenInbound(System.Net.Sockets.AddressFamily family, int localPort, IDatagramHandler handler)
        => EpollInboundSocket.Open(family, localPort, this, handler);

    public unsafe void Post(Action<object?> work, object? state)
    {
        lock (_stopLock)
        {
            if (!_stopped)
            {
                _posted.Enqueue((work, state));
                ulong one = 1;
                Sys.Write(_wake, &one, sizeof(ulong)); // EAGAIN at the counter's limit still leaves it readable
                return;
            }
        }

        // No loop thread any more: what is posted (an association's close above all) still runs,
        // one item at a time, as it would have on the loop.
        lock (_inlineLock)
        {
            Invoke(work, state);
        }
    }

    /// <summary>Watches <paramref name="handle"/> for input and errors; the registration id, for <see cref="Remove"/>.</summary>
    internal ulong Add(SafeHandle handle, EpollSocket socket)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextId);
        _sockets[id] = socket;
        if (Sys.EpollControl(_epoll, EpollConstants.EPOLL_CTL_ADD, handle, EpollConstants.EPOLLIN | EpollConstants.EPOLLERR, id) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            _sockets.TryRemove(id, out _);
            throw new TransportException("epoll_ctl", errno);
        }

        return id;
    }

    /// <summary>Forgets a socket before it is closed (closing it removes it from epoll; an event already read for it then finds nothing).</summary>
    internal void Remove(ulong id, SafeHandle handle)
    {
        if (_sockets.TryRemove(id, out _))
        {
            try
            {
                Sys.EpollControl(_epoll, EpollConstants.EPOLL_CTL_DEL, handle, 0, 0);
            }
            catch (ObjectDisposedException)
            {
                // The loop or the socket is already gone.
            }
        }
    }

    public unsafe void Dispose()
    {
        _stopping = true;
        ulong one = 1;
        Sys.Write(_wake, &one, sizeof(ulong));
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join(StopWait);
        }

        _epoll.Dispose();
        _wake.Dispose();
    }

    private void Run()
    {
        Exception? failure = null;
        try
        {
            Wait();
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            lock (_stopLock)
            {
                _stopped = true; // from here on Post runs its work inline
            }

            // This thread's alone until now: no read happens after it.
            Batch.Dispose();
            SendList.Dispose();
            lock (_inlineLock)
            {
                RunQueued();
            }
        }

        if (failure is not null && !_stopping)
        {
            _onStopped(failure);
        }
    }

    private unsafe void Wait()
    {
        int eventSize = Sys.EpollEventIsPacked ? sizeof(EpollEventPacked) : sizeof(EpollEventAligned);
        byte* events = stackalloc byte[MaxEvents * sizeof(EpollEventAligned)];
        while (!_stopping)
        {
            int ready = Sys.EpollWait(_epoll, events, MaxEvents, -1);
            if (ready < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                throw new TransportException("epoll_wait", errno);
            }

            for (int i = 0; i < ready && !_stopping; i++)
            {
                byte* ev = events + (i * eventSize);
                var (mask, id) = Sys.EpollEventIsPacked
                    ? (((EpollEventPacked*)ev)->Events, ((EpollEventPacked*)ev)->Data)
                    : (((EpollEventAligned*)ev)->Events, ((EpollEventAligned*)ev)->Data);
                if (id == WakeId)
                {
                    RunPosted();
                }
                else if (_sockets.TryGetValue(id, out var socket))
                {
                    Invoke((mask & EpollConstants.EPOLLERR) != 0 ? ReadyWithError : Ready, socket);
                }
            }
        }
    }

    private unsafe void RunPosted()
    {
        ulong count;
        Sys.Read(_wake, &count, sizeof(ulong));
        RunQueued();
    }

    private void RunQueued()
    {
        while (_posted.TryDequeue(out var item))
        {
            Invoke(item.Work, item.State);
        }
    }

    /// <summary>One association's fault must not stop every other association's datagrams.</summary>
    private void Invoke(Action<object?> work, object? state)
    {
        try
        {
            work(state);
        }
        catch (ObjectDisposedException)
        {
            // Closed under the loop: that socket is gone.
        }
        catch (Exception e)
        {
            _onFault(e);
        }
        finally
        {
            Outbox.Reset(); // a queue a fault left unflushed points into a batch about to be read again
        }
    }
}
