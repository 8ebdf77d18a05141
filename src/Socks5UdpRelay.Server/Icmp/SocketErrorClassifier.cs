using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// Sorts the <see cref="SocketError"/> of a failed send or receive on a destination socket into
/// "an ICMP-reported (or local) error to notice", "shutdown noise to keep quiet", and anything else.
/// </summary>
/// <remarks>
/// Classify by <see cref="SocketException.SocketErrorCode"/>: on Unix
/// <see cref="System.ComponentModel.Win32Exception.NativeErrorCode"/> is mapped back from the
/// <see cref="SocketError"/>, not the raw errno, so it carries nothing more.
/// The reports made here are the fallback without the error queue: Origin None, no type/code,
/// offender, MTU or original destination.
/// </remarks>
internal static class SocketErrorClassifier
{
    /// <summary>
    /// True for the errors the kernel raises on a UDP socket because of an ICMP error (or a local
    /// EMSGSIZE); <paramref name="report"/> then holds the errno's name and the kind DESIGN.md gives
    /// it ("without it the kind comes from the errno alone").
    /// </summary>
    public static bool TryClassify(SocketError error, out SocketErrorReport report)
    {
        // icmp_err_convert[] (net/ipv4/icmp.c) and icmpv6_err_convert (net/ipv6/icmp.c) produce these.
        // EHOSTDOWN is 3/7 (host unknown); the errno alone maps it to "unknown", as DESIGN.md says.
        string? errno = error switch
        {
            SocketError.ConnectionRefused => "ECONNREFUSED",
            SocketError.HostUnreachable => "EHOSTUNREACH",
            SocketError.NetworkUnreachable => "ENETUNREACH",
            SocketError.AccessDenied => "EACCES",
            SocketError.ProtocolOption => "ENOPROTOOPT",
            SocketError.MessageSize => "EMSGSIZE",
            SocketError.HostDown => "EHOSTDOWN",
            _ => null,
        };
        if (errno is null)
        {
            report = default;
            return false;
        }

        report = new SocketErrorReport(
            UdpErrorKinds.FromErrno(errno), errno, ErrorOrigin.None, 0, 0, Offender: null, Mtu: 0, OriginalDestination: null);
        return true;
    }

    /// <summary>
    /// True for the errors that only mean the socket is being closed under a pending operation:
    /// expected during an association's shutdown, never worth a notice or a warning.
    /// </summary>
    public static bool IsShutdownNoise(SocketError error) => error switch
    {
        SocketError.OperationAborted or
        SocketError.Interrupted or
        SocketError.Shutdown or
        SocketError.NotSocket or
        SocketError.ConnectionAborted or
        SocketError.ConnectionReset or
        SocketError.Disconnecting => true,
        // Disposing a socket under a pending receive can surface as EINVAL/EBADF on Unix
        // (Kestrel's SocketConnection treats InvalidArgument as an abort there too).
        SocketError.InvalidArgument => !OperatingSystem.IsWindows(),
        _ => false,
    };

    /// <summary>A report for an error that is neither ICMP nor shutdown (a local send failure): kind unknown, errno as best known.</summary>
    public static SocketErrorReport Unclassified(SocketError error)
        => new(UdpErrorKind.Unknown, ErrnoName(error), ErrorOrigin.None, 0, 0, Offender: null, Mtu: 0, OriginalDestination: null);

    private static string ErrnoName(SocketError error) => error switch
    {
        SocketError.NoBufferSpaceAvailable => "ENOBUFS",
        SocketError.TimedOut => "ETIMEDOUT",
        SocketError.AddressNotAvailable => "EADDRNOTAVAIL",
        SocketError.NetworkDown => "ENETDOWN",
        SocketError.WouldBlock => "EAGAIN",
        SocketError.AddressFamilyNotSupported => "EAFNOSUPPORT",
        _ => "E" + error.ToString().ToUpperInvariant(),
    };
}
