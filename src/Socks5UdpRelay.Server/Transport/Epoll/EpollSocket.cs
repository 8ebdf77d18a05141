using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// A relay socket on an <see cref="EventLoop"/>: registered for input and errors, drained in
/// batches when ready. The loop is level-triggered, so a drain cut short by its budget resumes on
/// the next wait and one busy socket never starves the others.
/// </summary>
internal abstract class EpollSocket : IDisposable
{
    /// <summary>Datagrams one wake-up may read from one socket.</summary>
    private const int DrainBudget = 64;

    private ulong _registration;
    private int _disposed;

    protected EpollSocket(SafeHandle handle, EventLoop loop)
    {
        Handle = handle;
        Loop = loop;
    }

    protected SafeHandle Handle { get; }

    protected EventLoop Loop { get; }

    protected IDatagramHandler? Handler { get; private set; }

    protected bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Loop.Remove(_registration, Handle);
            Handle.Dispose();
            OnDisposed();
        }
    }

    /// <summary>After the socket is closed, once.</summary>
    protected virtual void OnDisposed()
    {
    }

    /// <summary>Registers with the loop; datagrams and errors go to <paramref name="handler"/> from then on.</summary>
    protected void Register(IDatagramHandler handler)
    {
        Handler = handler;
        _registration = Loop.Add(Handle, this);
    }

    /// <summary>The loop's call: errors first where epoll said so (reading them clears the pending error), then the datagrams.</summary>
    internal void OnReady(bool error)
    {
        if (error)
        {
            OnErrorSignalled();
        }

        var batch = Loop.Batch;
        int taken = 0;
        while (taken < DrainBudget && !IsDisposed)
        {
            int reads = batch.Receive(Handle, WithSources, Coalesces);
            if (reads < 0)
            {
                if (!OnReadError(-reads))
                {
                    return;
                }

                taken++; // the kernel reports a pending error once; the budget still bounds the loop
                continue;
            }

            if (batch.Count > 0)
            {
                Loop.CountRead(batch.Count, batch.CoalescedReads);
                Handler!.OnDatagrams(batch);
            }

            if (reads < DatagramBatch.Capacity)
            {
                return; // a short batch means the queue is empty
            }

            taken += batch.Count;
        }
    }

    /// <summary>Whether reads need each datagram's source.</summary>
    protected abstract bool WithSources { get; }

    /// <summary>Whether GRO is on for the socket: a read may then hold several datagrams.</summary>
    protected bool Coalesces { get; set; }

    /// <summary>epoll reported an error condition.</summary>
    protected abstract void OnErrorSignalled();

    /// <summary>A read failed with <paramref name="errno"/>; false stops this drain.</summary>
    protected abstract bool OnReadError(int errno);
}
