namespace Socks5UdpRelay.Protocol;

/// <summary>The <c>error</c> kinds of a <c>UDP-ERROR</c> notice.</summary>
public enum UdpErrorKind
{
    Unknown = 0,
    PortUnreachable,
    HostUnreachable,
    NetUnreachable,
    ProtocolUnreachable,
    AdminProhibited,
    FragmentationNeeded,
    TtlExceeded,
}

/// <summary>
/// How ICMP type/code and errno map to <see cref="UdpErrorKind"/> (the README, the table of kinds),
/// and the kinds' wire names.
/// </summary>
public static class UdpErrorKinds
{
    public static string ToWireName(this UdpErrorKind kind) => kind switch
    {
        UdpErrorKind.PortUnreachable => "port-unreachable",
        UdpErrorKind.HostUnreachable => "host-unreachable",
        UdpErrorKind.NetUnreachable => "net-unreachable",
        UdpErrorKind.ProtocolUnreachable => "protocol-unreachable",
        UdpErrorKind.AdminProhibited => "admin-prohibited",
        UdpErrorKind.FragmentationNeeded => "fragmentation-needed",
        UdpErrorKind.TtlExceeded => "ttl-exceeded",
        _ => "unknown",
    };

    public static bool TryParseWireName(ReadOnlySpan<char> name, out UdpErrorKind kind)
    {
        kind = name switch
        {
            "port-unreachable" => UdpErrorKind.PortUnreachable,
            "host-unreachable" => UdpErrorKind.HostUnreachable,
            "net-unreachable" => UdpErrorKind.NetUnreachable,
            "protocol-unreachable" => UdpErrorKind.ProtocolUnreachable,
            "admin-prohibited" => UdpErrorKind.AdminProhibited,
            "fragmentation-needed" => UdpErrorKind.FragmentationNeeded,
            "ttl-exceeded" => UdpErrorKind.TtlExceeded,
            "unknown" => UdpErrorKind.Unknown,
            _ => (UdpErrorKind)(-1),
        };
        return kind >= 0;
    }

    /// <summary>ICMPv4 (RFC 792, RFC 1812 §5.2.7.1) type/code to kind.</summary>
    public static UdpErrorKind FromIcmp(byte type, byte code) => (type, code) switch
    {
        (3, 3) => UdpErrorKind.PortUnreachable,
        (3, 1) or (3, 7) or (3, 12) => UdpErrorKind.HostUnreachable,
        (3, 0) or (3, 6) or (3, 11) => UdpErrorKind.NetUnreachable,
        (3, 2) => UdpErrorKind.ProtocolUnreachable,
        (3, 9) or (3, 10) or (3, 13) => UdpErrorKind.AdminProhibited,
        (3, 4) => UdpErrorKind.FragmentationNeeded,
        (11, 0) => UdpErrorKind.TtlExceeded,
        _ => UdpErrorKind.Unknown,
    };

    /// <summary>ICMPv6 (RFC 4443) type/code to kind.</summary>
    public static UdpErrorKind FromIcmp6(byte type, byte code) => (type, code) switch
    {
        (1, 4) => UdpErrorKind.PortUnreachable,
        (1, 3) => UdpErrorKind.HostUnreachable,
        (1, 0) => UdpErrorKind.NetUnreachable,
        (1, 1) or (1, 5) or (1, 6) => UdpErrorKind.AdminProhibited,
        (2, 0) => UdpErrorKind.FragmentationNeeded,
        (3, 0) => UdpErrorKind.TtlExceeded,
        _ => UdpErrorKind.Unknown,
    };

    /// <summary>The fallback without the kernel's error queue: the kind from the errno alone.</summary>
    public static UdpErrorKind FromErrno(ReadOnlySpan<char> errnoName) => errnoName switch
    {
        "ECONNREFUSED" => UdpErrorKind.PortUnreachable,
        "EHOSTUNREACH" => UdpErrorKind.HostUnreachable,
        "ENETUNREACH" => UdpErrorKind.NetUnreachable,
        "EACCES" => UdpErrorKind.AdminProhibited,
        "ENOPROTOOPT" => UdpErrorKind.ProtocolUnreachable,
        "EMSGSIZE" => UdpErrorKind.FragmentationNeeded,
        _ => UdpErrorKind.Unknown,
    };
}
