using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>The one exception this library throws for a proxy that cannot be used; <see cref="Kind"/> says why.</summary>
public sealed class Socks5Exception : Exception
{
    /// <summary>Creates an exception of the given kind.</summary>
    public Socks5Exception(Socks5ErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>Creates a <see cref="Socks5ErrorKind.Refused"/> exception for a reply code.</summary>
    public Socks5Exception(ReplyCode reply, string message)
        : base(message)
    {
        Kind = Socks5ErrorKind.Refused;
        Reply = reply;
    }

    /// <summary>The category of the failure.</summary>
    public Socks5ErrorKind Kind { get; }

    /// <summary>The proxy's REP when <see cref="Kind"/> is <see cref="Socks5ErrorKind.Refused"/>; null otherwise.</summary>
    public ReplyCode? Reply { get; }
}
