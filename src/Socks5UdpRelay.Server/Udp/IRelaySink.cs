using Socks5UdpRelay.Server.Icmp;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>What a destination socket hands to its association: replies, errors, retries.</summary>
internal interface IRelaySink
{
    /// <summary>Sends a reply to the client; <paramref name="datagram"/> already starts with the reply header.</summary>
    void RelayToClient(Span<byte> datagram, int payloadLength);

    /// <summary>Sends the first <paramref name="count"/> datagrams of <paramref name="batch"/> to the client, each already behind its reply header.</summary>
    void RelayToClient(DatagramBatch batch, int count, int headerLength);

    void OnDestinationError(DestinationSocket destination, in SocketErrorReport report);

    void OnSendRetried();
}
