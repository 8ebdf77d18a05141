using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>
/// Who may send on an association (DESIGN.md, "Association rules"): the TCP peer's IP, and its
/// port when the request fixed one; otherwise the association locks to the port of the first
/// accepted datagram. Compares the raw socket address, so checking a datagram allocates nothing.
/// </summary>
internal sealed class ClientSourceFilter
{
    // Linux sockaddr_in / sockaddr_in6: family(2) port(2, big-endian), then the IPv4 address at 4
    // or flowinfo(4) and the IPv6 address at 8.
    private const int PortOffset = 2;
    private readonly byte[] _address;
    private readonly int _addressOffset;
    private readonly AddressFamily _family;
    private SocketAddress? _client;
    private ushort _port;

    public ClientSourceFilter(IPAddress clientAddress, ushort fixedPort)
    {
        _family = clientAddress.AddressFamily;
        _address = clientAddress.GetAddressBytes();
        _addressOffset = _family == AddressFamily.InterNetwork ? 4 : 8;
        _port = fixedPort;
    }

    /// <summary>The client's UDP address, once known; replies go there.</summary>
    public SocketAddress? Client => Volatile.Read(ref _client);

    public ushort ExpectedPort => _port;

    /// <summary>
    /// True when <paramref name="source"/> (a raw socket address of the client-facing socket's
    /// family) may send; the first accepted source fixes the port if none was.
    /// </summary>
    public bool Accept(ReadOnlySpan<byte> source)
    {
        if (source.Length < _addressOffset + _address.Length || !source.Slice(_addressOffset, _address.Length).SequenceEqual(_address))
        {
            return false;
        }

        ushort port = BinaryPrimitives.ReadUInt16BigEndian(source.Slice(PortOffset, 2));
        if (_client is not null)
        {
            return port == _port;
        }

        if (_port != 0 && port != _port)
        {
            return false;
        }

        _port = port;
        var copy = new SocketAddress(_family, source.Length);
        source.CopyTo(copy.Buffer.Span);
        Volatile.Write(ref _client, copy);
        return true;
    }
}
