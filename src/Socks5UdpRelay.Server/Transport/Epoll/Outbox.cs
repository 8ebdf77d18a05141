namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// Datagrams queued for destination sockets while the relay works through one batch, so that each
/// socket sends its own in one go at the batch's end (<see cref="IDestinationSocket.Flush"/>) and
/// runs of equal sizes leave segmented. One per loop thread: every socket keeps only where its
/// chain starts and ends (<see cref="Queue"/>), so an idle destination costs nothing here, and
/// datagrams to several destinations in one batch keep their order per destination. Pointers only:
/// the datagrams stay in the batch they were read into, which is not read again before the flush.
/// </summary>
internal sealed unsafe class Outbox
{
    private readonly nint[] _payloads;
    private readonly int[] _lengths;
    private readonly int[] _next;
    private int _count;
    private int _pending;
    private int _generation = 1;

    public Outbox(int capacity = SendList.MaxDatagrams)
    {
        _payloads = new nint[capacity];
        _lengths = new int[capacity];
        _next = new int[capacity];
    }

    /// <summary>Datagrams queued and not yet taken.</summary>
    public int Count => _count;

    /// <summary>One socket's chain in the outbox; the default is an empty one.</summary>
    public struct Queue
    {
        internal int Head;
        internal int Tail;
        internal int Count;
        internal int Generation;
    }

    /// <summary>How many datagrams <paramref name="queue"/> holds (0 after <see cref="Reset"/>).</summary>
    public int Queued(in Queue queue) => queue.Generation == _generation ? queue.Count : 0;

    /// <summary>Adds a datagram to the end of <paramref name="queue"/>; false when the outbox is full.</summary>
    public bool TryAdd(ref Queue queue, byte* payload, int length)
    {
        if (_count == _payloads.Length)
        {
            return false;
        }

        int index = _count++;
        _payloads[index] = (nint)payload;
        _lengths[index] = length;
        _next[index] = -1;
        if (Queued(queue) == 0)
        {
            queue = new Queue { Head = index, Tail = index, Count = 1, Generation = _generation };
            _pending++;
        }
        else
        {
            _next[queue.Tail] = index;
            queue.Tail = index;
            queue.Count++;
        }

        return true;
    }

    /// <summary>
    /// Hands every datagram of <paramref name="queue"/>, in the order queued, to
    /// <paramref name="list"/> and empties the queue; once no socket holds any, the outbox is
    /// empty again. Returns how many.
    /// </summary>
    public int TakeInto(ref Queue queue, SendList list)
    {
        int taken = 0;
        if (Queued(queue) > 0)
        {
            for (int i = queue.Head; i >= 0; i = _next[i])
            {
                list.Add(null, 0, (byte*)_payloads[i], _lengths[i]);
                taken++;
            }

            Forget(ref queue);
        }

        return taken;
    }

    /// <summary>Drops what <paramref name="queue"/> holds (its socket is closing).</summary>
    public void Forget(ref Queue queue)
    {
        if (Queued(queue) > 0 && --_pending == 0)
        {
            _count = 0;
        }

        queue = default;
    }

    /// <summary>Forgets every queue at once (what was not flushed by the end of a loop's work item is never sent: its batch is read again).</summary>
    public void Reset()
    {
        if (_count > 0 || _pending > 0)
        {
            _generation++;
            _count = 0;
            _pending = 0;
        }
    }
}
