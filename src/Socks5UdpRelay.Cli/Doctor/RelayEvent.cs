using System.Net.Sockets;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

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

/// <summary>One thing that happened on an association under test, stamped with when it was seen.</summary>
internal sealed record RelayEvent(RelayEventKind Kind, long Timestamp)
{
    public Socks5Endpoint? Source { get; init; }

    public byte[]? Payload { get; init; }

    public Notice? Notice { get; init; }

    public SocketError Error { get; init; }
}
