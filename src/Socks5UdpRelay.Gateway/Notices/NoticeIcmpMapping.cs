using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Gateway.Notices;

/// <summary>
/// Turns a notice about a flow's datagram into the ICMP or ICMPv6 error the program's kernel would
/// have received going direct (the gateway's README, "Notices as ICMP errors"):
/// <list type="bullet">
/// <item><c>UDP-ERROR</c> with <c>icmp=</c> (IPv4 flow) or <c>icmp6=</c> (IPv6 flow) of an error type: that type and code.</item>
/// <item><c>UDP-ERROR</c> without one (the relay's errno fallback, or the other family): the kind's first row in the
/// README's kind table: port-unreachable 3/3 · 1/4, host-unreachable 3/1 · 1/3, net-unreachable 3/0 · 1/0,
/// protocol-unreachable 3/2 · 4/1 (unrecognised Next Header), admin-prohibited 3/13 · 1/1,
/// fragmentation-needed 3/4 · 2/0, ttl-exceeded 11/0 · 3/0. <c>unknown</c> has none.</item>
/// <item><c>UDP-DENIED</c>: admin-prohibited (3/13 · 1/1), except <c>reason=rate-limit</c>: nothing.</item>
/// <item><c>UDP-UNRESOLVED</c>: host-unreachable (3/1 · 1/3).</item>
/// </list>
/// The reporter is <c>from</c>, unless it is missing, of the other family, or an address the local
/// kernel would drop as a martian source (one of its own, loopback, unspecified, multicast,
/// broadcast): then the quoted datagram's destination, which is remote by construction (its
/// packet was routed into the device, not delivered locally). The TTL is <c>rttl</c> when given,
/// else <see cref="DefaultTtl"/>. A fragmentation-needed without <c>mtu</c> says 576 (IPv4) or
/// 1280 (IPv6), the least every path carries.
/// </summary>
internal static class NoticeIcmpMapping
{
    /// <summary>The TTL of an error whose notice carries no <c>rttl</c>: Linux's default.</summary>
    public const byte DefaultTtl = 64;

    public const string RttlKey = "rttl";

    /// <summary>RFC 791: every IPv4 host accepts 576-byte datagrams.</summary>
    public const int MinimumIPv4Mtu = 576;

    /// <summary>RFC 8200 §5: every IPv6 link carries 1280 bytes.</summary>
    public const int MinimumIPv6Mtu = 1280;

    /// <summary>Offset of Next Header in the IPv6 header: the pointer of a 4/1 about a datagram without extension headers.</summary>
    private const uint NextHeaderPointer = 6;

    /// <summary>
    /// Maps <paramref name="notice"/> for a flow of the given family whose datagram went to
    /// <paramref name="destination"/>. False (with the reason) when it yields no ICMP error.
    /// </summary>
    public static bool TryMap(
        Notice notice,
        bool isIPv6,
        IPAddress destination,
        Func<IPAddress, bool> isLocalAddress,
        out IcmpErrorSpec spec,
        out NoticeMappingResult result)
    {
        spec = default;
        (byte Type, byte Code)? typeCode = notice.Verb switch
        {
            NoticeVerbs.UdpError => FromError(notice, isIPv6),
            NoticeVerbs.UdpDenied => notice.Reason == DeniedReasons.RateLimit ? null : FromKind(UdpErrorKind.AdminProhibited, isIPv6),
            NoticeVerbs.UdpUnresolved => FromKind(UdpErrorKind.HostUnreachable, isIPv6),
            _ => null,
        };
        if (typeCode is not { } tc)
        {
            result = notice.Verb is NoticeVerbs.UdpError or NoticeVerbs.UdpDenied or NoticeVerbs.UdpUnresolved
                ? NoticeMappingResult.NoIcmpEquivalent
                : NoticeMappingResult.NotAnError;
            return false;
        }

        var reporter = notice.From is { } from && IsUsableReporter(from, isIPv6, isLocalAddress) ? from : destination;
        spec = new IcmpErrorSpec(tc.Type, tc.Code, Info(tc.Type, tc.Code, notice.Mtu, isIPv6), reporter, ReadTtl(notice));
        result = NoticeMappingResult.Injected;
        return true;
    }

    /// <summary>
    /// True when a packet from <paramref name="address"/> arriving on the device would reach the
    /// program: of the flow's family and not a source the kernel drops as a martian.
    /// </summary>
    public static bool IsUsableReporter(IPAddress address, bool isIPv6, Func<IPAddress, bool> isLocalAddress)
    {
        if (address.AddressFamily != (isIPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork))
        {
            return false;
        }

        if (IPAddress.IsLoopback(address) || isLocalAddress(address))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        if (!isIPv6)
        {
            // 0.0.0.0/8, multicast 224.0.0.0/4 and above (class E, limited broadcast): martian sources.
            return bytes[0] != 0 && bytes[0] < 224;
        }

        return !address.Equals(IPAddress.IPv6Any) && bytes[0] != 0xFF && !address.IsIPv4MappedToIPv6 && length == 16;
    }

    private static (byte, byte)? FromError(Notice notice, bool isIPv6)
    {
        var given = isIPv6 ? notice.Icmp6 : notice.Icmp;
        if (given is { } g && IsErrorType(g.Type, isIPv6))
        {
            return g;
        }

        return FromKind(notice.ErrorKind ?? UdpErrorKind.Unknown, isIPv6);
    }

    private static bool IsErrorType(byte type, bool isIPv6) =>
        isIPv6 ? type is 1 or 2 or 3 or 4 : type is 3 or 11 or 12;

    private static (byte, byte)? FromKind(UdpErrorKind kind, bool isIPv6) => (kind, isIPv6) switch
    {
        (UdpErrorKind.PortUnreachable, false) => (3, 3),
        (UdpErrorKind.PortUnreachable, true) => (1, 4),
        (UdpErrorKind.HostUnreachable, false) => (3, 1),
        (UdpErrorKind.HostUnreachable, true) => (1, 3),
        (UdpErrorKind.NetUnreachable, false) => (3, 0),
        (UdpErrorKind.NetUnreachable, true) => (1, 0),
        (UdpErrorKind.ProtocolUnreachable, false) => (3, 2),
        (UdpErrorKind.ProtocolUnreachable, true) => (4, 1),
        (UdpErrorKind.AdminProhibited, false) => (3, 13),
        (UdpErrorKind.AdminProhibited, true) => (1, 1),
        (UdpErrorKind.FragmentationNeeded, false) => (3, 4),
        (UdpErrorKind.FragmentationNeeded, true) => (2, 0),
        (UdpErrorKind.TtlExceeded, false) => (11, 0),
        (UdpErrorKind.TtlExceeded, true) => (3, 0),
        _ => null,
    };

    private static uint Info(byte type, byte code, int? mtu, bool isIPv6) => (isIPv6, type, code) switch
    {
        (false, 3, 4) => (uint)Math.Clamp(mtu ?? MinimumIPv4Mtu, 0, ushort.MaxValue),
        (true, 2, _) => (uint)Math.Max(mtu ?? MinimumIPv6Mtu, 0),
        (true, 4, 1) => NextHeaderPointer,
        _ => 0,
    };

    private static byte ReadTtl(Notice notice) =>
        byte.TryParse(notice[RttlKey], NumberStyles.None, CultureInfo.InvariantCulture, out byte ttl) && ttl > 0 ? ttl : DefaultTtl;
}
