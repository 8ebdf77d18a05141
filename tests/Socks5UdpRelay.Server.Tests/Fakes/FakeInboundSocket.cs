using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Tests.Fakes;

/// <summary>A mapping's unconnected socket the test plays strangers on: datagrams in with their source.</summary>
internal sealed class FakeInboundSocket(FakeLoop loop, AddressFamily family, int localPort, IDatagramHandler handler) : IInboundSocket
{
    public AddressFamily Family { get; } = family;

    public int LocalPort { get; } = localPort;

    public bool Disposed { get; private set; }

    /// <summary>Someone sends to the mapping's port from <paramref name="from"/>, matching no destination socket.</summary>
    public void Deliver(IPEndPoint from, params byte[][] payloads)
    {
        Span<byte> source = stackalloc byte[RawSocketAddress.MaxLength];
        int length = RawSocketAddress.Write(source, from.Address, from.Port);
        loop.Batch.Load(payloads, source[..length]);
        handler.OnDatagrams(loop.Batch);
    }

    /// <summary>Several senders at once: the datagrams arrive as one batch read, each with its own source.</summary>
    public void Deliver(params (IPEndPoint From, byte[] Payload)[] datagrams)
    {
        Span<byte> source = stackalloc byte[RawSocketAddress.MaxLength];
        loop.Batch.Clear();
        foreach (var (from, payload) in datagrams)
        {
            int length = RawSocketAddress.Write(source, from.Address, from.Port);
            if (!loop.Batch.TryAppend(payload.Length, source[..length], out var slot))
            {
                throw new ArgumentOutOfRangeException(nameof(datagrams), $"A batch holds {DatagramBatch.Capacity} datagrams.");
            }

            payload.CopyTo(slot);
        }

        handler.OnDatagrams(loop.Batch);
    }

    public void Dispose() => Disposed = true;
}
