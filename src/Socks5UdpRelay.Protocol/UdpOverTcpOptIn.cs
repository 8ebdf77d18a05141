namespace Socks5UdpRelay.Protocol;

/// <summary>
/// How a UDP-over-TCP client asks for notices and commands (the README, "UDP over TCP"): its
/// <c>CMD=0x05</c> request names the domain <c>NOTICES</c> and, as the port, the notice version
/// it speaks (1). hev-socks5 clients name <c>0.0.0.0:0</c> and servers other than this one ignore
/// the address. A server that agrees names the same in its reply's BND.ADDR and BND.PORT, and its
/// first frame is then the <c>NOTICES</c> greeting as a control frame; any other reply means
/// datagram frames only.
/// </summary>
public static class UdpOverTcpOptIn
{
    /// <summary>The name in DST.ADDR and BND.ADDR.</summary>
    public const string Name = "NOTICES";

    /// <summary>The notice version, in DST.PORT and BND.PORT.</summary>
    public const ushort Version = 1;

    private static ReadOnlySpan<byte> NameBytes => "NOTICES"u8;

    /// <summary>True when <paramref name="address"/> (a request's DST or a reply's BND) is the opt-in.</summary>
    public static bool Matches(in SocksAddress address)
        => address.Type == AddressType.DomainName && address.Port == Version && address.AddressBytes.SequenceEqual(NameBytes);

    /// <summary>The opt-in address, for a request or a reply.</summary>
    public static SocksAddress Address => new(AddressType.DomainName, NameBytes, Version);
}
