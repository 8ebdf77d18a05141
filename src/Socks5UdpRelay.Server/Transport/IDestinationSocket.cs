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
    /// Queues <paramref name="payload"/>, which lies in <paramref name="batch"/> (the batch being
    /// handled), to leave with the others queued here at the next <see cref="Flush"/>, in order:
    /// runs of equal sizes then leave in one segmented send (ARCHITECTURE.md, "Segmentation
    /// offload"). Flush before the batch is read again: what is left queued when the loop's work
    /// item ends is never sent. False when nothing more can be queued (send it with
    /// <see cref="Send"/> after a <see cref="Flush"/>).
    /// </summary>
    bool TryQueue(DatagramBatch batch, ReadOnlySpan<byte> payload);

    /// <summary>
    /// Sends what <see cref="TryQueue"/> queued, without waiting, as <see cref="Send"/> does each
    /// datagram: errors the kernel held are reported to the socket's handler before the send they
    /// failed is made once more; a full buffer drops the rest.
    /// </summary>
    SendOutcome Flush();

    /// <summary>
    /// Every datagram sent from now on leaves with IPv4 TTL / IPv6 hop limit <paramref name="ttl"/>
    /// (1-255), or the system default again for 0. Returns 0, or the errno when the kernel refused.
    /// </summary>
    int SetTtl(int ttl);
}
