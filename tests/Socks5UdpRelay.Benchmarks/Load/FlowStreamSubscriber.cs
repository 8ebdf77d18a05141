using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// A reader of the server's flow stream (<c>GET /flows/stream</c>, README "Flow view") on a thread
/// of its own, as an operator's open page would be: it takes every event as it comes and counts
/// them, so a run can be measured with the stream's cost on the server and without it.
/// </summary>
internal sealed class FlowStreamSubscriber : IDisposable
{
    private readonly Socket _socket;
    private readonly Thread _reader;
    private long _events;
    private long _bytes;

    private FlowStreamSubscriber(Socket socket)
    {
        _socket = socket;
        _reader = new Thread(Read) { IsBackground = true, Name = "flow-stream" };
    }

    public long Events => Interlocked.Read(ref _events);

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Connects, asks for the stream with the token, checks that the answer is 200, and reads on from there.</summary>
    public static FlowStreamSubscriber Start(IPEndPoint endpoint, string token)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(endpoint);
        socket.Send(Encoding.ASCII.GetBytes($"GET /flows/stream HTTP/1.1\r\nHost: {endpoint}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"));
        var head = new StringBuilder();
        byte[] buffer = new byte[65_536];
        while (!head.ToString().Contains("\n\n", StringComparison.Ordinal))
        {
            int n = socket.Receive(buffer);
            if (n == 0)
            {
                socket.Dispose();
                throw new InvalidOperationException($"the flow stream closed before its answer: {head}");
            }

            head.Append(Encoding.UTF8.GetString(buffer, 0, n).Replace("\r\n", "\n", StringComparison.Ordinal));
        }

        string text = head.ToString();
        if (!text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
        {
            socket.Dispose();
            throw new InvalidOperationException($"the flow stream was refused: {text.Split('\n')[0]}");
        }

        var subscriber = new FlowStreamSubscriber(socket);
        subscriber._reader.Start();
        return subscriber;
    }

    public void Dispose()
    {
        _socket.Dispose();
        _reader.Join(TimeSpan.FromSeconds(5));
    }

    private void Read()
    {
        byte[] buffer = new byte[65_536];
        _socket.ReceiveTimeout = 0;
        try
        {
            int n;
            while ((n = _socket.Receive(buffer)) > 0)
            {
                Interlocked.Add(ref _bytes, n);
                // Events end with a blank line; a separator split across reads is counted late, never twice.
                for (int i = 1; i < n; i++)
                {
                    if (buffer[i] == (byte)'\n' && buffer[i - 1] == (byte)'\n')
                    {
                        Interlocked.Increment(ref _events);
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // closed by Dispose
        }
    }
}
