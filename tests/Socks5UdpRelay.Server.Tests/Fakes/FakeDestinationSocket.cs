using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Tests.Fakes;

/// <summary>A destination socket that records what is sent and lets the test play the destination: replies, errors, a full buffer.</summary>
internal sealed class FakeDestinationSocket(FakeLoop loop, DestinationKey key, int localPort, IDatagramHandler handler) : IDestinationSocket
{
    private readonly Queue<SendResult> _results = new();

    public DestinationKey Key { get; } = key;

    public int LocalPort { get; } = localPort;

    public List<byte[]> Sent { get; } = [];

    public bool Disposed { get; private set; }

    /// <summary>The TTL set last (0: the default).</summary>
    public int Ttl { get; private set; }

    /// <summary>How the next sends end (then <see cref="SendResult.Sent"/> again); an error result reports <paramref name="reports"/> first, as the engine does.</summary>
    public Queue<(SendResult Result, ErrorReport[] Reports)> NextSends { get; } = new();

    public SendResult Send(ReadOnlySpan<byte> payload)
    {
        if (Disposed)
        {
            return SendResult.Closed;
        }

        if (NextSends.TryDequeue(out var next))
        {
            if (next.Result == SendResult.ErrorReported)
            {
                handler.OnErrors(next.Reports);
            }

            return next.Result;
        }

        Sent.Add(payload.ToArray());
        return SendResult.Sent;
    }

    /// <summary>The destination answers: the datagrams arrive as one batch read.</summary>
    public void Reply(params byte[][] payloads)
    {
        loop.Batch.Load(payloads);
        handler.OnDatagrams(loop.Batch);
    }

    /// <summary>The kernel reports errors for this socket.</summary>
    public void Fail(params ErrorReport[] reports) => handler.OnErrors(reports);

    public int SetTtl(int ttl)
    {
        Ttl = ttl;
        return 0;
    }

    public void Dispose() => Disposed = true;
}
