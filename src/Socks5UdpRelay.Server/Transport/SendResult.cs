namespace Socks5UdpRelay.Server.Transport;

/// <summary>What became of one datagram handed to <see cref="IDestinationSocket.Send"/>.</summary>
internal enum SendResult
{
    Sent,

    /// <summary>The socket's send buffer was full: dropped, never waited for.</summary>
    BufferFull,

    /// <summary>Nothing was sent: the send surfaced errors, which were reported to the socket's handler.</summary>
    ErrorReported,

    /// <summary>The socket is closed.</summary>
    Closed,
}
