namespace Socks5UdpRelay.Client;

/// <summary>How the datagrams of a <see cref="Socks5UdpAssociation"/> travel between client and proxy.</summary>
public enum Socks5UdpTransport
{
    /// <summary>UDP ASSOCIATE (RFC 1928 §7): a UDP socket connected to the proxy's relay, the TCP connection for notices and commands.</summary>
    Udp,

    /// <summary>UDP over TCP (the README, "UDP over TCP"): <c>CMD=0x05</c>, datagrams framed on the TCP connection itself, hev-socks5's wire format.</summary>
    Tcp,
}
