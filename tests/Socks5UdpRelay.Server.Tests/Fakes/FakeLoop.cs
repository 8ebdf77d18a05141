using System.Collections.Concurrent;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Tests.Fakes;

/// <summary>
/// The engine's loop without a thread or a socket: posted work waits until the test runs it
/// (<see cref="RunPending"/>), and destination sockets are <see cref="FakeDestinationSocket"/>s
/// the test drives. The test plays the loop thread.
/// </summary>
internal sealed class FakeLoop : IRelayLoop
{
    private readonly ConcurrentQueue<(Action<object?> Work, object? State)> _posted = new();
    private readonly Dictionary<DestinationKey, int> _refusals = [];
    private readonly SemaphoreSlim _postSignal = new(0);

    /// <summary>Every destination socket opened, in order (closed ones included).</summary>
    public List<FakeDestinationSocket> Opened { get; } = [];

    public DatagramBatch Batch { get; } = new();

    public int PendingCount => _posted.Count;

    /// <summary>The next open of <paramref name="key"/> fails with <paramref name="errno"/> (as the kernel refusing bind or connect).</summary>
    public void RefuseNextOpen(DestinationKey key, int errno) => _refusals[key] = errno;

    public IDestinationSocket OpenDestination(in DestinationKey destination, int localPort, IDatagramHandler handler)
    {
        if (_refusals.Remove(destination, out int errno))
        {
            throw new TransportException("connect", errno);
        }

        var socket = new FakeDestinationSocket(this, destination, localPort, handler);
        Opened.Add(socket);
        return socket;
    }

    /// <summary>Every inbound (unconnected) socket opened, in order.</summary>
    public List<FakeInboundSocket> Inbound { get; } = [];

    public IInboundSocket OpenInbound(System.Net.Sockets.AddressFamily family, int localPort, IDatagramHandler handler)
    {
        var socket = new FakeInboundSocket(this, family, localPort, handler);
        Inbound.Add(socket);
        return socket;
    }

    public void Post(Action<object?> work, object? state)
    {
        _posted.Enqueue((work, state));
        _postSignal.Release();
    }

    /// <summary>Completes when something has been posted since the last call (or still waits to run).</summary>
    public Task WaitForPostAsync(CancellationToken cancellationToken) => _postSignal.WaitAsync(cancellationToken);

    /// <summary>Runs what was posted, including what that posts in turn; how many ran.</summary>
    public int RunPending()
    {
        int ran = 0;
        while (_posted.TryDequeue(out var item))
        {
            item.Work(item.State);
            ran++;
        }

        return ran;
    }
}
