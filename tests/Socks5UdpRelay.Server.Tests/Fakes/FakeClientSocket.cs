using System.Net;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Tests.Fakes;

/// <summary>An association's client-facing socket the test plays the client on: datagrams in with a source, replies out recorded.</summary>
internal sealed class FakeClientSocket(FakeLoop loop, IPEndPoint local) : IClientSocket
{
    private IDatagramHandler? _handler;

    public IPEndPoint LocalEndPoint { get; } = local;

    public IRelayLoop Loop => loop;

    public bool Disposed { get; private set; }

    /// <summary>Each reply sent: the client address (raw sockaddr) and the whole datagram, header included.</summary>
    public List<(byte[] Client, byte[] Datagram)> Replies { get; } = [];

    /// <summary>How many of the next replies the socket takes (null: all), as a full buffer would.</summary>
    public int? Room { get; set; }

    public void Start(IDatagramHandler handler) => _handler = handler;

    /// <summary>The client sends: the datagrams arrive as one batch read, from <paramref name="from"/>.</summary>
    public void Deliver(IPEndPoint from, params byte[][] datagrams)
    {
        Span<byte> source = stackalloc byte[RawSocketAddress.MaxLength];
        int length = RawSocketAddress.Write(source, from.Address, from.Port);
        loop.Batch.Load(datagrams, source[..length]);
        _handler!.OnDatagrams(loop.Batch);
    }

    public int SendReplies(DatagramBatch batch, ReadOnlySpan<byte> client, out long payloadBytes)
    {
        payloadBytes = 0;
        int sent = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.IsDropped(i) || (Room is { } room && sent >= room))
            {
                continue;
            }

            var payload = batch.Payload(i);
            Replies.Add((client.ToArray(), [.. batch.ReplyHeaderOf(i), .. payload]));
            payloadBytes += payload.Length;
            sent++;
        }

        return sent;
    }

    public void Dispose() => Disposed = true;
}
