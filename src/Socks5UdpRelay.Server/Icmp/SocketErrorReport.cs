using System.Net;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>Where a reported error came from (sock_extended_err.ee_origin).</summary>
internal enum ErrorOrigin : byte
{
    /// <summary>Only an errno is known: the fallback without the kernel's error queue.</summary>
    None = 0,
    Local = 1,
    Icmp = 2,
    Icmp6 = 3,
}

/// <summary>
/// One error the kernel reported for a destination socket: from the error queue (type/code,
/// offender, MTU) or, in the fallback, from the errno of a failed operation alone.
/// </summary>
/// <param name="Kind">The notice's <c>error</c> kind.</param>
/// <param name="Errno">The errno's symbolic name, e.g. <c>ECONNREFUSED</c>.</param>
/// <param name="Origin">Which of icmp/icmp6 the type and code belong to, if any.</param>
/// <param name="IcmpType">ICMP type (valid when Origin is Icmp or Icmp6).</param>
/// <param name="IcmpCode">ICMP code (valid when Origin is Icmp or Icmp6).</param>
/// <param name="Offender">The host or router that sent the ICMP, when the kernel gave it.</param>
/// <param name="Mtu">The MTU for fragmentation-needed / packet-too-big, else 0.</param>
/// <param name="OriginalDestination">The destination of the datagram that caused it, when the kernel gave it.</param>
internal readonly record struct SocketErrorReport(
    UdpErrorKind Kind,
    string Errno,
    ErrorOrigin Origin,
    byte IcmpType,
    byte IcmpCode,
    IPAddress? Offender,
    int Mtu,
    IPEndPoint? OriginalDestination);
