using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// Who may send on an association (README, "Association rules"): the TCP peer's IP, and its port
/// when the request fixed one; otherwise the association locks to the port of the first
/// accepted datagram. Compares raw socket addresses, so checking a datagram allocates nothing.
/// </summary>
internal sealed class ClientSourceFilter
{
    private readonly byte[] _address;
    private readonly int _addressOffset;
    private readonly byte[] _client = new byte[RawSocketAddress.MaxLength];
    private int _clientLength;
    private ushort _port;

    public ClientSourceFilter(IPAddress clientAddress, ushort fixedPort)
    {
        _address = clientAddress.GetAddressBytes();
        // sockaddr_in holds the IPv4 address at 4, sockaddr_in6 the IPv6 address at 8.
        _addressOffset = clientAddress.AddressFamily == AddressFamily.InterNetwork ? 4 : 8;
        _port = fixedPort;
    }

    /// <summary>The client's UDP address (a raw sockaddr) once known, else empty: replies go there.</summary>
    public ReadOnlySpan<byte> Client => _client.AsSpan(0, _clientLength);

    /// <summary>The port datagrams must come from; 0 until the first one fixed it (when the request did not).</summary>
    public ushort ExpectedPort => _port;

    /// <summary>True when <paramref name="source"/> (a raw socket address) may send; the first accepted source fixes the port if none was.</summary>
    public bool Accept(ReadOnlySpan<byte> source)
    {
        if (source.Length < _addressOffset + _address.Length || !source.Slice(_addressOffset, _address.Length).SequenceEqual(_address))
        {
            return false;
        }

        ushort port = BinaryPrimitives.ReadUInt16BigEndian(source[RawSocketAddress.PortOffset..]);
        if (_clientLength > 0)
        {
            return port == _port;
        }

        if (_port != 0 && port != _port)
        {
            return false;
        }

        _port = port;
        int length = Math.Min(source.Length, _client.Length);
        source[..length].CopyTo(_client);
        _clientLength = length;
        return true;
    }
}
