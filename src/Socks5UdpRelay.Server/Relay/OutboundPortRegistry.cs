using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// Hands out the one local port that all destination sockets of an association share. A port is
/// handed out only after an exclusive bind to it succeeded on both families (so no other socket
/// holds it) and only if no other association of this process holds it: binding port 0 with a
/// reuse option is no allocation, as the kernel may give a port another reuse socket already has.
/// A released port rests for <see cref="Quarantine"/> before it is handed out again when any other
/// will do: a late reply for the association that had it would otherwise reach the next one's
/// socket to the same destination (the same four-tuple). Resting never makes allocation fail:
/// under heavy churn the kernel may offer only resting ports, and one of those beats none.
/// </summary>
internal sealed class OutboundPortRegistry
{
    public static readonly TimeSpan Quarantine = TimeSpan.FromSeconds(10);
    private const int MaxResting = 4096;
    private const int Attempts = 64;
    private readonly HashSet<int> _held = [];
    private readonly Dictionary<int, long> _resting = [];
    private readonly Queue<(int Port, long Since)> _restingOrder = new();
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Func<int> _probe;

    public OutboundPortRegistry(TimeProvider time)
        : this(time, null)
    {
    }

    /// <summary>For tests: <paramref name="probe"/> stands in for asking the kernel for a free port.</summary>
    internal OutboundPortRegistry(TimeProvider time, Func<int>? probe)
    {
        _time = time;
        bool ipv6 = Socket.OSSupportsIPv6;
        _probe = probe ?? (() => ProbeFreePort(ipv6));
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>A free port, or 0 when none was found (the caller reports a failure).</summary>
    public int Allocate()
    {
        int resting = 0;
        for (int i = 0; i < Attempts; i++)
        {
            int port = _probe();
            if (port == 0)
            {
                continue;
            }

            lock (_lock)
            {
                if (_resting.TryGetValue(port, out long since) && _time.GetElapsedTime(since) < Quarantine)
                {
                    resting = resting == 0 && !_held.Contains(port) ? port : resting;
                    continue;
                }

                _resting.Remove(port);
                if (_held.Add(port))
                {
                    return port;
                }
            }
        }

        lock (_lock)
        {
            if (resting != 0 && _held.Add(resting))
            {
                _resting.Remove(resting);
                return resting;
            }
        }

        return 0;
    }

    public void Release(int port)
    {
        lock (_lock)
        {
            if (_held.Remove(port))
            {
                PruneResting();
                if (_resting.Count < MaxResting)
                {
                    long now = _time.GetTimestamp();
                    _resting[port] = now;
                    _restingOrder.Enqueue((port, now));
                }
            }
        }
    }

    public bool IsHeld(int port)
    {
        lock (_lock)
        {
            return _held.Contains(port);
        }
    }

    /// <summary>Forgets ports whose rest is over, oldest first: constant work per release, however many rest.</summary>
    private void PruneResting()
    {
        while (_restingOrder.TryPeek(out var oldest) && _time.GetElapsedTime(oldest.Since) >= Quarantine)
        {
            _restingOrder.Dequeue();
            if (_resting.TryGetValue(oldest.Port, out long since) && since == oldest.Since)
            {
                _resting.Remove(oldest.Port);
            }
        }
    }

    private static int ProbeFreePort(bool ipv6)
    {
        try
        {
            using var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            v4.Bind(new IPEndPoint(IPAddress.Any, 0));
            int port = ((IPEndPoint)v4.LocalEndPoint!).Port;
            if (!ipv6)
            {
                return port;
            }

            using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = false };
            v6.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            return port;
        }
        catch (SocketException)
        {
            // Taken, or no descriptor left (EMFILE): no port this time; the caller counts and reports the failure.
            return 0;
        }
    }
}
