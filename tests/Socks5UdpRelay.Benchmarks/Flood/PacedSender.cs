using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Benchmarks.Native;

namespace Socks5UdpRelay.Benchmarks.Flood;

/// <summary>
/// One thread sending one prepared datagram from one socket, round robin over a few addresses, at
/// a fixed rate (datagrams per second) or, at rate 0, as fast as it can. Bounded by
/// <see cref="MaxLifetime"/> even if nobody stops it.
/// </summary>
internal sealed class PacedSender : IDisposable
{
    /// <summary>A flood outlives no run: warm-up plus duration are at most 660 s (the options' limits).</summary>
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(12);

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly byte[] _datagram;
    private readonly byte[][] _to;
    private readonly double _rate;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private long _sent;
    private long _failed;

    public PacedSender(Socket socket, byte[] datagram, IReadOnlyList<IPEndPoint> to, double rate, string name)
    {
        _socket = socket;
        _fd = RawUdp.Fd(socket);
        _datagram = datagram;
        _to = to.Select(RawUdp.Sockaddr).ToArray();
        _rate = rate;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Datagrams the kernel took.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Datagrams the kernel refused (this socket's own buffer full, or an error).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Stops the thread and waits for it; the socket stays the owner's.</summary>
    public void Stop()
    {
        _stopping = true;
        _thread.Join();
    }

    public void Dispose()
    {
        Stop();
        _socket.Dispose();
    }

    private void Run()
    {
        long start = Stopwatch.GetTimestamp();
        long end = start + (long)(MaxLifetime.TotalSeconds * Stopwatch.Frequency);
        long attempts = 0;
        while (!_stopping)
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= end)
            {
                return;
            }

            if (_rate > 0 && attempts >= _rate * (now - start) / Stopwatch.Frequency)
            {
                Thread.Sleep(1); // ahead of schedule: the next millisecond's share goes out as one burst
                continue;
            }

            // A counter write per datagram is noise next to the system call.
            bool ok = RawUdp.Send(_fd, _datagram, _to[attempts % _to.Length]);
            Interlocked.Increment(ref ok ? ref _sent : ref _failed);
            attempts++;
        }
    }
}
