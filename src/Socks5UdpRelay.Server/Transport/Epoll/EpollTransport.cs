using System.Net;
using Socks5UdpRelay.Server.Icmp;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// The Linux engine: <c>Relay:EventLoops</c> event loops, each a thread with its own epoll
/// instance, batch buffers and counters. A new association goes to the loop carrying the fewest;
/// its sockets (client-facing, destinations, inbound) all stay there, so no datagram crosses
/// loops and loops share nothing on the datagram path. A datagram from one association to
/// another (hairpinning) goes through the kernel, whose socket buffer is the bounded hand-off.
/// </summary>
internal sealed class EpollTransport : IUdpTransport, IDisposable
{
    /// <summary>The most loops a server runs (<c>Relay:EventLoops</c>): past the host's cores, more only adds wake-ups.</summary>
    public const int MaxLoops = 64;

    private readonly EventLoop[] _loops;
    private readonly ClientPortAllocator _clientPorts;

    public EpollTransport(int loops, ClientPortAllocator clientPorts, ErrorSource errors, Action<Exception> onFault, Action<Exception> onStopped, UdpOffload? offload = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(loops, MaxLoops);
        if (Interop.Sys.CheckLayouts() is { } reason)
        {
            throw new PlatformNotSupportedException($"Socks5UdpRelay cannot run here: {reason}.");
        }

        _clientPorts = clientPorts;
        _loops = new EventLoop[loops];
        try
        {
            for (int i = 0; i < loops; i++)
            {
                _loops[i] = new EventLoop(i, errors, onFault, onStopped, offload);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The loops, for the metrics.</summary>
    public IReadOnlyList<ILoopStatistics> Loops => _loops;

    public IClientSocket? BindClient(IPAddress local)
    {
        var loop = Least();
        var handle = _clientPorts.Bind(local);
        if (handle is null)
        {
            return null;
        }

        try
        {
            return new EpollClientSocket(handle, loop);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public IRelayLoop PickLoop() => Least();

    public Task ResetStatisticsAsync() => Task.WhenAll(_loops.Select(l => l.InvokeAsync(l.ResetCounters)));

    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            loop?.Dispose();
        }
    }

    /// <summary>The running loop with the fewest associations; a stopped loop takes none (and stops the server: see its onStopped).</summary>
    private EventLoop Least()
    {
        EventLoop? best = null;
        foreach (var loop in _loops)
        {
            if (!loop.IsStopped && (best is null || loop.Clients < best.Clients))
            {
                best = loop;
            }
        }

        return best ?? throw new TransportException("bind on a stopped UDP event loop", Interop.Errno.ENETDOWN);
    }
}
