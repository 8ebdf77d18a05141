namespace Socks5UdpRelay.Cli;

/// <summary>What <c>--udp-over-tcp</c> asks for (the README, "The CLI": "UDP over TCP").</summary>
internal enum UdpOverTcpMode
{
    /// <summary>UDP ASSOCIATE only.</summary>
    Off,

    /// <summary>UDP over TCP (<c>CMD=0x05</c>) only.</summary>
    On,

    /// <summary>UDP, unless a proxy that sends notices gives none for the probe datagram: then UDP over TCP.</summary>
    Auto,
}
