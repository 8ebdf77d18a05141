namespace Socks5UdpRelay.Client;

/// <summary>What <see cref="Socks5UdpAssociation.CheckUdpPathAsync"/> found about UDP from this client to the proxy's relay.</summary>
public enum Socks5UdpPath
{
    /// <summary>A notice answered the probe datagram: datagrams reach the relay.</summary>
    Reaches,

    /// <summary>
    /// The proxy greeted with <c>NOTICES</c> and must have answered the probe with a notice, but none
    /// came within the wait while the control connection stayed up: datagrams do not reach the relay
    /// (a firewall between client and proxy drops UDP). UDP over TCP is the way around it.
    /// </summary>
    Blocked,

    /// <summary>
    /// Nothing can be told: the proxy sends no notices (no <c>NOTICES</c> greeting, as Dante or a
    /// Socks5UdpRelay with notices off), so its silence proves nothing; or the association ended first.
    /// </summary>
    Unknown,
}
