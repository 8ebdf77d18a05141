namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>What happened on an association under test.</summary>
internal enum RelayEventKind
{
    /// <summary>A datagram from the relay, unwrapped: <see cref="RelayEvent.Source"/> and <see cref="RelayEvent.Payload"/>.</summary>
    Datagram,

    /// <summary>A notice line on the control connection.</summary>
    Notice,

    /// <summary>An ICMP-reported error on our own UDP socket (the relay's address or port did not take our datagram).</summary>
    SocketError,

    /// <summary>The control connection ended, and with it the association.</summary>
    Closed,
}
