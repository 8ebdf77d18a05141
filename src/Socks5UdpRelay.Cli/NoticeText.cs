using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// Notices as people read them: the destination, then what the kernel would have said to a
/// direct nc (strerror's words), then the detail only the notice has.
/// <c>127.0.0.1:5999: Connection refused (port-unreachable, reported by 127.0.0.1)</c>.
/// </summary>
internal static class NoticeText
{
    /// <summary>Null for notices that are not about a destination (NOTICES, CLOSING, unknown verbs).</summary>
    public static string? Describe(Notice notice) => notice.Verb switch
    {
        NoticeVerbs.UdpError => DescribeError(notice),
        NoticeVerbs.UdpDenied => $"{Destination(notice)}: the proxy refused to forward the datagram ({notice.Reason ?? "no reason given"})",
        NoticeVerbs.UdpUnresolved => $"{Destination(notice)}: the proxy could not resolve the name ({notice.Reason ?? "no reason given"})",
        _ => null,
    };

    /// <summary>The kind's wire name, <c>unknown</c> when the notice names none.</summary>
    public static string KindName(Notice notice) => (notice.ErrorKind ?? UdpErrorKind.Unknown).ToWireName();

    private static string DescribeError(Notice notice)
    {
        var kind = notice.ErrorKind ?? UdpErrorKind.Unknown;
        var detail = new List<string> { kind.ToWireName() };
        if (notice.Icmp is { } icmp && kind == UdpErrorKind.Unknown)
        {
            detail.Add($"ICMP {icmp.Type}/{icmp.Code}");
        }

        if (notice.Icmp6 is { } icmp6 && kind == UdpErrorKind.Unknown)
        {
            detail.Add($"ICMPv6 {icmp6.Type}/{icmp6.Code}");
        }

        if (notice.Mtu is { } mtu)
        {
            detail.Add($"path MTU {mtu}");
        }

        if (notice.From is { } from)
        {
            detail.Add($"reported by {from}");
        }

        if (notice.Suppressed > 0)
        {
            detail.Add($"{notice.Suppressed} more not reported");
        }

        string address = notice[NoticeKeys.Address] is { } resolved ? $" ({resolved})" : string.Empty;
        return $"{Destination(notice)}{address}: {Strerror(kind, notice.Errno)} ({string.Join(", ", detail)})";
    }

    // The words nc prints for the errno a direct connected socket would have seen.
    private static string Strerror(UdpErrorKind kind, string? errno) => kind switch
    {
        UdpErrorKind.PortUnreachable => "Connection refused",
        UdpErrorKind.HostUnreachable => "No route to host",
        UdpErrorKind.NetUnreachable => "Network is unreachable",
        UdpErrorKind.ProtocolUnreachable => "Protocol not available",
        UdpErrorKind.AdminProhibited => "Communication administratively prohibited",
        UdpErrorKind.FragmentationNeeded => "Message too long",
        UdpErrorKind.TtlExceeded => "Time to live exceeded",
        _ => errno is null ? "Unknown error" : $"Error {errno}",
    };

    private static string Destination(Notice notice)
    {
        string? dst = notice.Destination;
        if (dst is null)
        {
            return "(no destination)";
        }

        // Names arrive %XX-escaped; show them as they were typed where that is printable ASCII.
        var bytes = System.Text.Encoding.Latin1.GetBytes(dst);
        Span<byte> buffer = stackalloc byte[bytes.Length];
        return NoticeFormat.TryUnescapeName(bytes, buffer, out int written)
            && buffer[..written].IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) < 0
            ? System.Text.Encoding.ASCII.GetString(buffer[..written])
            : dst;
    }
}
