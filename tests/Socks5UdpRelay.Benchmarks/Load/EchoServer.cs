using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// The UDP echo target (on 127.0.0.1 unless told otherwise): each datagram goes back unchanged to where it came from.
/// Blocking receives on dedicated threads (one socket each, SO_REUSEPORT on one port when there
/// are several), recvmmsg/sendmmsg in batches, no allocation per datagram; stops within 100 ms of <see cref="Dispose"/>.
/// </summary>
internal sealed class EchoServer : IDisposable
{
    private const int SolSocket = 1;
    private const int SoReusePort = 15;
    private readonly List<Socket> _sockets = [];
    private readonly List<Thread> _threads = [];
    private readonly bool _segmented;
    private volatile bool _stopping;
    private long _echoed;

    /// <param name="segmented">Read with GRO and echo coalesced reads back with GSO (the bulk workload): <see cref="Native.MultiMessage"/>.</param>
    /// <param name="bind">The address to serve on (default 127.0.0.1).</param>
    /// <param name="port">The port (default: one the kernel picks).</param>
    public EchoServer(int threads = 1, bool segmented = false, IPAddress? bind = null, int port = 0)
    {
        _segmented = segmented;
        var address = bind ?? IPAddress.Loopback;
        for (int i = 0; i < Math.Max(1, threads); i++)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            s.ReceiveBufferSize = 4 << 20;
            s.SendBufferSize = 4 << 20;
            s.ReceiveTimeout = 100;
            s.Bind(new IPEndPoint(address, port));
            if (segmented)
            {
                Native.MultiMessage.EnableGro(s.SafeHandle);
            }

            port = ((IPEndPoint)s.LocalEndPoint!).Port;
            _sockets.Add(s);
            var t = new Thread(Run) { IsBackground = true, Name = $"echo-{i}" };
            _threads.Add(t);
        }

        EndPoint = new IPEndPoint(address, port);
        for (int i = 0; i < _threads.Count; i++)
        {
            _threads[i].Start(_sockets[i]);
        }
    }

    public IPEndPoint EndPoint { get; }

    public long Echoed => Interlocked.Read(ref _echoed);

    public void Dispose()
    {
        _stopping = true;
        foreach (var t in _threads)
        {
            t.Join(2_000);
        }

        foreach (var s in _sockets)
        {
            s.Dispose();
        }
    }

    private void Run(object? state)
    {
        var socket = (Socket)state!;
        var handle = socket.SafeHandle;
        using var batch = new Native.MultiMessage(_segmented);
        while (!_stopping)
        {
            int n = batch.Receive(handle);
            if (n <= 0)
            {
                continue; // timeout (checks _stopping), EINTR, or an error for an earlier send
            }

            Interlocked.Add(ref _echoed, batch.EchoBack(handle, n));
        }
    }
}
