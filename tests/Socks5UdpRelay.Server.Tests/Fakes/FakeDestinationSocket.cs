using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Transport;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Fakes;

/// <summary>A destination socket that records what is sent and lets the test play the destination: replies, errors, a full buffer.</summary>
internal sealed class FakeDestinationSocket(FakeLoop loop, DestinationKey key, int localPort, IDatagramHandler handler) : IDestinationSocket
{
    private readonly Queue<SendResult> _results = new();

    public DestinationKey Key { get; } = key;

    public int LocalPort { get; } = localPort;

    public List<byte[]> Sent { get; } = [];

    /// <summary>How many datagrams each <see cref="Flush"/> that had any took: what the engine would send in one go.</summary>
    public List<int> Flushed { get; } = [];

    private readonly List<byte[]> _queued = [];

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

    public bool TryQueue(DatagramBatch batch, ReadOnlySpan<byte> payload)
    {
        Assert.True(batch.Holds(payload), "only a payload of the batch being handled may be queued");
        _queued.Add(payload.ToArray());
        return true;
    }

    /// <summary>Each queued datagram as <see cref="Send"/> would take it (so <see cref="NextSends"/> applies), one retry after reported errors, as the engine does.</summary>
    public SendOutcome Flush()
    {
        int sent = 0, full = 0, failed = 0, retried = 0;
        long bytes = 0;
        foreach (var payload in _queued)
        {
            var result = Send(payload);
            if (result == SendResult.ErrorReported)
            {
                retried++;
                result = Send(payload);
            }

            switch (result)
            {
                case SendResult.Sent:
                    sent++;
                    bytes += payload.Length;
                    break;
                case SendResult.BufferFull:
                    full++;
                    break;
                default:
                    failed++;
                    break;
            }
        }

        if (_queued.Count > 0)
        {
            Flushed.Add(_queued.Count);
        }

        _queued.Clear();
        return new SendOutcome(sent, bytes, full, failed, retried);
    }

    /// <summary>The destination answers: the datagrams arrive as one batch read.</summary>
    public void Reply(params byte[][] payloads)
    {
        loop.Batch.Load(payloads);
        handler.OnDatagrams(loop.Batch);
    }

    /// <summary>The destination answers with datagrams of <paramref name="segmentSize"/> bytes the kernel coalesced into one GRO read.</summary>
    public void ReplyCoalesced(byte[] buffer, int segmentSize)
    {
        loop.Batch.LoadCoalesced(buffer, segmentSize);
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
