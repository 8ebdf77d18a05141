using System.Net;
using Socks5UdpRelay.Cli.Trace;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Tests.Trace;

/// <summary>Hop lines: traceroute's own layout in text, the README's object in JSON; answers from notice lines.</summary>
public sealed class TraceReportTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("10.0.2.5");

    [Fact]
    public void Text_OneReporter_PrintedOnceThenEachRoundTrip()
    {
        var hop = new TraceHop(2, [Exceeded(A, 1.2344), Exceeded(A, 1.1), Exceeded(A, 13.25)]);

        Assert.Equal(" 2  10.0.2.1  1.234 ms  1.100 ms  13.250 ms", TraceReport.ToText(hop));
    }

    [Fact]
    public void Text_Silence_IsStars()
    {
        Assert.Equal(" 7  * * *", TraceReport.ToText(new TraceHop(7, [null, null, null])));
        Assert.Equal("12  *", TraceReport.ToText(new TraceHop(12, [null])));
    }

    [Fact]
    public void Text_ReporterRepeatedAfterSilence_AndWhereItChanges_AsTracerouteDoes()
    {
        Assert.Equal(" 3  * 10.0.2.1  2.000 ms *", TraceReport.ToText(new TraceHop(3, [null, Exceeded(A, 2), null])));
        Assert.Equal(" 3  10.0.2.1  1.000 ms * 10.0.2.5  3.000 ms", TraceReport.ToText(new TraceHop(3, [Exceeded(A, 1), null, Exceeded(B, 3)])));
        Assert.Equal(" 3  10.0.2.1  1.000 ms *  3.000 ms", TraceReport.ToText(new TraceHop(3, [Exceeded(A, 1), null, Exceeded(A, 3)])));
    }

    [Fact]
    public void Text_UnreachableFlags_FollowEachRoundTrip()
    {
        var hop = new TraceHop(4, [new TraceReply("host-unreachable", A, TimeSpan.FromMilliseconds(3), "!H", Final: true), null]);

        Assert.Equal(" 4  10.0.2.1  3.000 ms !H *", TraceReport.ToText(hop));
    }

    [Fact]
    public void Json_TheReadmesShape()
    {
        var hop = new TraceHop(2, [Exceeded(A, 1.2), Exceeded(A, 1.1), Exceeded(A, 1.3)]);

        Assert.Equal("""{"ttl":2,"from":"10.0.2.1","rtt_ms":[1.2,1.1,1.3],"kind":"ttl-exceeded"}""", TraceReport.ToJson(hop));
    }

    [Fact]
    public void Json_SilenceAndMixedHops()
    {
        Assert.Equal("""{"ttl":9,"from":null,"rtt_ms":[null,null,null],"kind":"silence"}""", TraceReport.ToJson(new TraceHop(9, [null, null, null])));
        var destination = new TraceReply("port-unreachable", B, TimeSpan.FromMilliseconds(0.5), null, Final: true);
        Assert.Equal("""{"ttl":3,"from":"10.0.2.5","rtt_ms":[null,0.5],"kind":"port-unreachable"}""", TraceReport.ToJson(new TraceHop(3, [null, destination])));
    }

    [Theory]
    [InlineData("UDP-ERROR dst=10.0.9.9:33434 error=ttl-exceeded errno=EHOSTUNREACH icmp=11/0 from=10.0.2.1 rttl=63", "ttl-exceeded", false, null)]
    [InlineData("UDP-ERROR dst=[fd00::9]:33434 error=ttl-exceeded errno=EHOSTUNREACH icmp6=3/0 from=fd00::1 rttl=63", "ttl-exceeded", false, null)]
    [InlineData("UDP-ERROR dst=10.0.9.9:33434 error=port-unreachable errno=ECONNREFUSED icmp=3/3 from=10.0.9.9", "port-unreachable", true, null)]
    [InlineData("UDP-ERROR dst=10.0.9.9:33434 error=host-unreachable errno=EHOSTUNREACH icmp=3/1 from=10.0.2.1", "host-unreachable", true, "!H")]
    [InlineData("UDP-ERROR dst=10.0.9.9:33434 error=net-unreachable errno=ENETUNREACH icmp=3/0 from=10.0.2.1", "net-unreachable", true, "!N")]
    [InlineData("UDP-ERROR dst=10.0.9.9:33434 error=protocol-unreachable errno=ENOPROTOOPT icmp=3/2 from=10.0.2.1", "protocol-unreachable", true, "!P")]
    [InlineData("UDP-ERROR dst=10.0.9.9:33434 error=admin-prohibited errno=EHOSTUNREACH icmp=3/13 from=10.0.2.1", "admin-prohibited", true, "!X")]
    [InlineData("UDP-ERROR dst=10.0.9.9:33434 error=fragmentation-needed errno=EMSGSIZE icmp=3/4 from=10.0.2.1 mtu=1280", "fragmentation-needed", true, "!F-1280")]
    [InlineData("UDP-ERROR dst=10.0.9.9:33434 error=unknown errno=EOPNOTSUPP icmp=3/5 from=10.0.2.1", "unknown", true, "!5")]
    [InlineData("UDP-ERROR dst=10.0.9.9:33434 error=port-unreachable errno=ECONNREFUSED", "port-unreachable", true, null)]
    public void FromNotice_KindFinalAndTraceroutesFlag(string line, string kind, bool final, string? flag)
    {
        Assert.True(Notice.TryParse(line, out var notice));

        var answer = TraceAnswer.FromNotice(notice, 42);

        Assert.Equal((kind, final, flag, 42L), (answer.Kind, answer.Final, answer.Flag, answer.ArrivedAt));
        Assert.Equal(notice.From, answer.From);
    }

    private static TraceReply Exceeded(IPAddress from, double ms) => new("ttl-exceeded", from, TimeSpan.FromMilliseconds(ms), null, Final: false);
}
