using System.Net;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// One error the kernel reported for a destination socket: from the error queue (type/code,
/// offender, MTU) or, in the fallback, from the errno of a failed operation alone.
/// </summary>
/// <param name="Kind">The notice's <c>error</c> kind.</param>
/// <param name="Errno">The Linux errno, e.g. 111 (ECONNREFUSED); <see cref="ErrnoTable.Name"/> spells it.</param>
/// <param name="Origin">Which of icmp/icmp6 the type and code belong to, if any.</param>
/// <param name="IcmpType">ICMP type (valid when Origin is Icmp or Icmp6).</param>
/// <param name="IcmpCode">ICMP code (valid when Origin is Icmp or Icmp6).</param>
/// <param name="Offender">The host or router that sent the ICMP, when the kernel gave it.</param>
/// <param name="Mtu">The MTU for fragmentation-needed / packet-too-big, else 0.</param>
/// <param name="OriginalDestination">The destination of the datagram that caused it, when the kernel gave it.</param>
/// <param name="ReceivedTtl">The TTL / hop limit the ICMP error arrived with (IP_RECVTTL / IPV6_RECVHOPLIMIT), 0 when unknown.</param>
internal readonly record struct ErrorReport(
    UdpErrorKind Kind,
    int Errno,
    ErrorOrigin Origin,
    byte IcmpType,
    byte IcmpCode,
    IPAddress? Offender,
    int Mtu,
    IPEndPoint? OriginalDestination,
    int ReceivedTtl = 0)
{
    /// <summary>The report the errno of a failed operation gives when nothing more is known.</summary>
    public static ErrorReport FromErrno(int errno)
        => new(ErrnoTable.Kind(errno), errno, ErrorOrigin.None, 0, 0, Offender: null, Mtu: 0, OriginalDestination: null);

    /// <summary>The errno's symbolic name, e.g. <c>ECONNREFUSED</c>.</summary>
    public string ErrnoName => ErrnoTable.Name(Errno);
}
