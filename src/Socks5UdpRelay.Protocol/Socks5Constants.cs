namespace Socks5UdpRelay.Protocol;

/// <summary>Fixed values of RFC 1928 and RFC 1929.</summary>
public static class Socks5Constants
{
    /// <summary>VER of every RFC 1928 message.</summary>
    public const byte Version = 0x05;

    /// <summary>VER of the RFC 1929 username/password sub-negotiation.</summary>
    public const byte UserPassVersion = 0x01;

    /// <summary>RSV: reserved bytes are written as zero and ignored on read.</summary>
    public const byte Reserved = 0x00;
}

/// <summary>METHOD values of RFC 1928 §3.</summary>
public enum AuthMethod : byte
{
    NoAuthentication = 0x00,
    Gssapi = 0x01,
    UsernamePassword = 0x02,
    NoAcceptableMethods = 0xFF,
}

/// <summary>CMD values of RFC 1928 §4, and hev-socks5's extension.</summary>
public enum Socks5Command : byte
{
    Connect = 0x01,
    Bind = 0x02,
    UdpAssociate = 0x03,

    /// <summary>hev-socks5's "FWD UDP": datagrams framed on the TCP connection itself (<see cref="UdpOverTcpFrame"/>).</summary>
    UdpOverTcp = 0x05,
}

/// <summary>ATYP values of RFC 1928 §4/§5/§7.</summary>
public enum AddressType : byte
{
    IPv4 = 0x01,
    DomainName = 0x03,
    IPv6 = 0x04,
}

/// <summary>REP values of RFC 1928 §6.</summary>
public enum ReplyCode : byte
{
    Succeeded = 0x00,
    GeneralFailure = 0x01,
    ConnectionNotAllowed = 0x02,
    NetworkUnreachable = 0x03,
    HostUnreachable = 0x04,
    ConnectionRefused = 0x05,
    TtlExpired = 0x06,
    CommandNotSupported = 0x07,
    AddressTypeNotSupported = 0x08,
}
