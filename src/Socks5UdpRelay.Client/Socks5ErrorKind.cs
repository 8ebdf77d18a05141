namespace Socks5UdpRelay.Client;

/// <summary>What went wrong when a SOCKS5 association or connection could not be set up, or a command on it could not be answered.</summary>
public enum Socks5ErrorKind
{
    /// <summary>The proxy's name did not resolve, or no TCP connection to it could be made.</summary>
    ProxyUnreachable,

    /// <summary>The proxy accepted none of the offered methods, or rejected the username and password (RFC 1929).</summary>
    AuthenticationFailed,

    /// <summary>The proxy answered the request with a REP other than 0; see <see cref="Socks5Exception.Reply"/>.</summary>
    Refused,

    /// <summary>The proxy sent something that is not SOCKS5, chose a method that was not offered, or closed the connection mid-handshake.</summary>
    ProtocolError,

    /// <summary><see cref="Socks5ProxyOptions.ConnectTimeout"/> or <see cref="Socks5ProxyOptions.HandshakeTimeout"/> elapsed.</summary>
    Timeout,

    /// <summary>The association's control connection ended (the proxy closed or reset it) before the proxy answered a command.</summary>
    AssociationClosed,
}
