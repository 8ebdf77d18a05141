using System.Net.Sockets;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>One thing that happened on an association under test, stamped with when it was seen.</summary>
internal sealed record RelayEvent(RelayEventKind Kind, long Timestamp)
{
    public Socks5Endpoint? Source { get; init; }

    public byte[]? Payload { get; init; }

    public Notice? Notice { get; init; }

    public SocketError Error { get; init; }
}
