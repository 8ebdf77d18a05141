namespace Socks5UdpRelay.Gateway;

/// <summary>
/// The gateway could not start or set up the host: the message is one line saying what failed and
/// why (no CAP_NET_ADMIN, no <c>/dev/net/tun</c>, a command that failed and its error).
/// </summary>
public sealed class GatewayException : Exception
{
    /// <summary>Creates the exception with its one-line reason.</summary>
    public GatewayException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its one-line reason and the failure behind it.</summary>
    public GatewayException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
