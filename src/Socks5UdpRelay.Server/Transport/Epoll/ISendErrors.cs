namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>How a socket that reports errors (a destination) answers the errors its sends meet; a socket without one loses the datagram the kernel refused.</summary>
internal interface ISendErrors
{
    /// <summary>A send failed with <paramref name="errno"/> (nothing was sent): report what the kernel held; true when the send should be made once more.</summary>
    bool OnSendError(int errno);

    /// <summary>A segmented send failed with EMSGSIZE: reports the errors the kernel held, if any (then the EMSGSIZE was one of them, not the send's size); true when there were some.</summary>
    bool ReportHeld();
}
