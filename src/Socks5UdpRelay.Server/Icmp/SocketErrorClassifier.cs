using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>
/// Sorts the socket errors of a connected UDP socket: the ones the kernel raised for an ICMP
/// error (reported to the client, by kind), shutdown noise (kept quiet), and the rest. On Unix
/// .NET maps errno to <see cref="SocketError"/>, so the errno name is recovered from that.
/// </summary>
internal static class SocketErrorClassifier
{
    public static bool TryClassify(SocketError error, out SocketErrorReport report)
    {
        string? errno = error switch
        {
            SocketError.ConnectionRefused => "ECONNREFUSED",
            SocketError.HostUnreachable => "EHOSTUNREACH",
            SocketError.NetworkUnreachable => "ENETUNREACH",
            SocketError.AccessDenied => "EACCES",
            SocketError.ProtocolOption => "ENOPROTOOPT",
            SocketError.MessageSize => "EMSGSIZE",
            _ => null,
        };
        if (errno is null)
        {
            report = default;
            return false;
        }

        report = new SocketErrorReport(UdpErrorKinds.FromErrno(errno), errno, ErrorOrigin.None, 0, 0, null, 0, null);
        return true;
    }

    /// <summary>A report for an error that is neither ICMP nor shutdown: kind unknown, errno as best known.</summary>
    public static SocketErrorReport Unclassified(SocketError error)
        => new(UdpErrorKind.Unknown, ErrnoName(error), ErrorOrigin.None, 0, 0, null, 0, null);

    public static bool IsShutdownNoise(SocketError error) => error is SocketError.OperationAborted or SocketError.Interrupted
        or SocketError.Shutdown or SocketError.NotSocket or SocketError.Disconnecting or SocketError.InvalidArgument;

    private static string ErrnoName(SocketError error) => error switch
    {
        SocketError.NoBufferSpaceAvailable => "ENOBUFS",
        SocketError.TimedOut => "ETIMEDOUT",
        SocketError.ConnectionReset => "ECONNRESET",
        SocketError.AddressNotAvailable => "EADDRNOTAVAIL",
        SocketError.NetworkDown => "ENETDOWN",
        SocketError.HostDown => "EHOSTDOWN",
        SocketError.WouldBlock => "EAGAIN",
        _ => "E" + error.ToString().ToUpperInvariant(),
    };
}
