using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>What an event on an association says about a datagram doctor sent to <c>target</c>, as a stage 5 verdict.</summary>
internal static class RelayEventText
{
    /// <summary>The ICMP error behind a socket error on our own UDP socket (Linux maps them so; see the README's notice table).</summary>
    public static string Icmp(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "ICMP port unreachable",
        SocketError.HostUnreachable => "ICMP host unreachable (or administratively prohibited)",
        SocketError.NetworkUnreachable => "ICMP network unreachable",
        SocketError.AccessDenied => "ICMP administratively prohibited",
        SocketError.MessageSize => "ICMP fragmentation needed",
        _ => $"a socket error ({error})",
    };

    /// <summary>True when <paramref name="notice"/> is about datagrams to <paramref name="target"/>.</summary>
    public static bool IsAbout(Notice notice, DoctorTarget target)
        => notice.Verb is NoticeVerbs.UdpError or NoticeVerbs.UdpDenied or NoticeVerbs.UdpUnresolved
            && (notice.Destination == target.ToString() || notice[NoticeKeys.Address] == target.ToString());

    /// <summary>The verdict of a notice about <paramref name="target"/>.</summary>
    public static StageResult FromNotice(Notice notice, DoctorTarget target)
    {
        string said = NoticeText.Describe(notice) ?? notice.Line;
        var facts = new Dictionary<string, object?> { ["notice"] = notice.Line };
        switch (notice.Verb)
        {
            case NoticeVerbs.UdpDenied:
                return StageResult.Fail(DoctorStage.Datagrams, FailureSide.Proxy, $"{said}",
                    notice.Reason switch
                    {
                        DeniedReasons.Policy => "the operator must allow this destination (Socks5UdpRelay: Policy:Destinations; the proxy's own loopback needs Policy:LoopbackDestinations=allow)",
                        DeniedReasons.RateLimit => "the proxy's datagram rate limit was reached: try again, or raise Limits:DatagramsPerSecond",
                        DeniedReasons.TooLarge => "the datagram is larger than the proxy relays (Relay:MaxDatagramSize)",
                        _ => "see the proxy's log",
                    },
                    facts);
            case NoticeVerbs.UdpUnresolved:
                return StageResult.Fail(DoctorStage.Datagrams, FailureSide.Path, said,
                    $"the proxy resolves names: check '{target.Host}', or give an address", facts);
            default:
                var kind = notice.ErrorKind ?? UdpErrorKind.Unknown;
                string fix = kind switch
                {
                    UdpErrorKind.PortUnreachable => $"nothing listens on {target}: give a port where a service answers (an echo, port 7, or a DNS server with --dns)",
                    UdpErrorKind.AdminProhibited => "a firewall beyond the relay refuses the datagram",
                    UdpErrorKind.HostUnreachable or UdpErrorKind.NetUnreachable => "the relay has no way to the target: check the address, and the relay host's routes",
                    UdpErrorKind.TtlExceeded => "the datagram expired on the way (a routing loop beyond the relay)",
                    UdpErrorKind.FragmentationNeeded => "the datagram is too big for the path beyond the relay",
                    _ => "see the notice",
                };
                return StageResult.Fail(DoctorStage.Datagrams, FailureSide.Path, $"the relay forwarded the datagram, and reported {said}", fix, facts);
        }
    }
}
