using System.Globalization;
using System.Net;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Trace;

/// <summary>
/// What came back for one probe, as it arrived: an ICMP error the proxy reported (a
/// <c>UDP-ERROR</c> notice) or a reply from the destination, who sent it, and when.
/// </summary>
/// <param name="Kind">The notice's error kind (<c>ttl-exceeded</c>, <c>port-unreachable</c>, …) or <c>reply</c>.</param>
/// <param name="From">The router or host that answered; null when the proxy could not say (no error queue).</param>
/// <param name="Final">True when the trace goes no further: anything but <c>ttl-exceeded</c>.</param>
/// <param name="Flag">traceroute's annotation for an unreachable (<c>!H</c>, <c>!N</c>, <c>!P</c>, <c>!X</c>, <c>!F-1280</c>, <c>!3</c>), or null.</param>
/// <param name="ArrivedAt">The clock's timestamp when the client read it.</param>
internal readonly record struct TraceAnswer(string Kind, IPAddress? From, bool Final, string? Flag, long ArrivedAt)
{
    public const string ReplyKind = "reply";

    public static TraceAnswer Reply(IPAddress from, long arrivedAt) => new(ReplyKind, from, Final: true, Flag: null, arrivedAt);

    /// <summary>The answer a <c>UDP-ERROR</c> notice gives; its kind decides whether the trace ends there.</summary>
    public static TraceAnswer FromNotice(Notice notice, long arrivedAt)
    {
        var kind = notice.ErrorKind ?? UdpErrorKind.Unknown;
        return new TraceAnswer(kind.ToWireName(), notice.From, kind != UdpErrorKind.TtlExceeded, FlagOf(kind, notice), arrivedAt);
    }

    // traceroute's annotations (traceroute(8), "!H, !N, or !P (host, network or protocol
    // unreachable), !S (source route failed), !F (fragmentation needed), !X (communication
    // administratively prohibited) … !<num> (ICMP unreachable code <num>)").
    private static string? FlagOf(UdpErrorKind kind, Notice notice) => kind switch
    {
        UdpErrorKind.TtlExceeded or UdpErrorKind.PortUnreachable => null,
        UdpErrorKind.HostUnreachable => "!H",
        UdpErrorKind.NetUnreachable => "!N",
        UdpErrorKind.ProtocolUnreachable => "!P",
        UdpErrorKind.AdminProhibited => "!X",
        UdpErrorKind.FragmentationNeeded => notice.Mtu is { } mtu ? string.Create(CultureInfo.InvariantCulture, $"!F-{mtu}") : "!F",
        _ => (notice.Icmp ?? notice.Icmp6) is { } typeCode ? string.Create(CultureInfo.InvariantCulture, $"!{typeCode.Code}") : "!?",
    };
}
