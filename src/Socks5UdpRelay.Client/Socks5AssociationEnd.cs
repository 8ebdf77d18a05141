namespace Socks5UdpRelay.Client;

/// <summary>Why the TCP control connection of a <see cref="Socks5UdpAssociation"/> ended.</summary>
public enum Socks5AssociationEnd
{
    /// <summary>The proxy closed the control connection in order (EOF): the association is over.</summary>
    ServerClosed,

    /// <summary>The control connection was reset or failed with a socket error.</summary>
    ConnectionReset,

    /// <summary>The association was disposed by its owner.</summary>
    Disposed,

    /// <summary>Over TCP only: the proxy sent a frame that is not UDP over TCP, after which the stream cannot be read on (the README, "UDP over TCP").</summary>
    ProtocolError,
}
