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

    public void Dispose() => Disposed = true;
}
