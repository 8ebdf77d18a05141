namespace Socks5UdpRelay.Server.Transport;

/// <summary>One connected socket from an association to one destination.</summary>
internal interface IDestinationSocket : IDisposable
{
    /// <summary>
    /// Sends one datagram without ever waiting: a full send buffer drops it
    /// (<see cref="SendResult.BufferFull"/>), since a wait would stall every association on the
    /// loop. When the send failed on an error the kernel held for the socket (an ICMP error for
    /// an earlier datagram: nothing was sent), the errors have been handed to the socket's
    /// handler before this returns <see cref="SendResult.ErrorReported"/>, and sending again is
    /// the caller's choice.
    /// </summary>
    SendResult Send(ReadOnlySpan<byte> payload);

    /// <summary>
    /// Every datagram sent from now on leaves with IPv4 TTL / IPv6 hop limit <paramref name="ttl"/>
    /// (1-255), or the system default again for 0. Returns 0, or the errno when the kernel refused.
    /// </summary>
    int SetTtl(int ttl);
}
