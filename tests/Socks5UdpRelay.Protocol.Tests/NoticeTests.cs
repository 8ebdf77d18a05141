using System.Net;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class NoticeTests
{
    private static Notice Parse(string line)
    {
        Assert.True(Notice.TryParse(Ascii(line), out var notice));
        Assert.NotNull(notice);
        return notice;
    }

    [Theory]
    [MemberData(nameof(NoticeExamples.Lines), MemberType = typeof(NoticeExamples))]
    public void WrittenExample_ParsesBackToItsFields(string expected)
    {
        var (verb, fill) = NoticeExamples.Recipe(expected);
        string line = NoticeExamples.Build(verb, fill)!;

        var notice = Parse(line);

        string[] tokens = expected.TrimEnd('\n').Split(' ');
        Assert.Equal(tokens[0], notice.Verb);
        Assert.Equal(expected.TrimEnd('\n'), notice.Line);
        Assert.Equal(notice.Line, notice.ToString());
        Assert.Equal(tokens.Length - 1, notice.Fields.Count);
        foreach (string token in tokens[1..])
        {
            string[] kv = token.Split('=', 2);
            Assert.Equal(kv[1], notice[kv[0]]);
        }
    }

    [Fact]
    public void VersionLine_TypedGetters()
    {
        var notice = Parse(NoticeExamples.Version);

        Assert.Equal(NoticeVerbs.Notices, notice.Verb);
        Assert.Equal(1, notice.Version);
        Assert.Null(notice.ErrorKind);
        Assert.Null(notice.Destination);
    }

    [Fact]
    public void PortUnreachable_TypedGetters()
    {
        var notice = Parse(NoticeExamples.PortUnreachable);

        Assert.Equal("203.0.113.7:555", notice.Destination);
        Assert.Equal(UdpErrorKind.PortUnreachable, notice.ErrorKind);
        Assert.Equal("ECONNREFUSED", notice.Errno);
        Assert.Equal(((byte)3, (byte)3), notice.Icmp);
        Assert.Null(notice.Icmp6);
        Assert.Equal(IPAddress.Parse("203.0.113.7"), notice.From);
        Assert.Null(notice.Mtu);
        Assert.Equal(0, notice.Suppressed);
        Assert.Null(notice.Version);
    }

    [Fact]
    public void AdminProhibited6_TypedGetters()
    {
        var notice = Parse(NoticeExamples.AdminProhibited6);

        Assert.Equal("[2001:db8::7]:53", notice.Destination);
        Assert.Equal(UdpErrorKind.AdminProhibited, notice.ErrorKind);
        Assert.Equal("EACCES", notice.Errno);
        Assert.Null(notice.Icmp);
        Assert.Equal(((byte)1, (byte)1), notice.Icmp6);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), notice.From);
    }

    [Fact]
    public void HostUnreachableByName_TypedGetters()
    {
        var notice = Parse(NoticeExamples.HostUnreachableByName);

        Assert.Equal("ntp.example:123", notice.Destination);
        Assert.Equal("192.0.2.9:123", notice[NoticeKeys.Address]);
        Assert.Equal(UdpErrorKind.HostUnreachable, notice.ErrorKind);
        Assert.Equal(((byte)3, (byte)1), notice.Icmp);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), notice.From);
    }

    [Fact]
    public void Denied_Reason()
    {
        var notice = Parse(NoticeExamples.DeniedByPolicy);

        Assert.Equal(NoticeVerbs.UdpDenied, notice.Verb);
        Assert.Equal(DeniedReasons.Policy, notice.Reason);
        Assert.Equal("169.254.169.254:80", notice.Destination);
    }

    [Fact]
    public void MtuAndSuppressed_AreNumbers()
    {
        var notice = Parse("UDP-ERROR dst=198.51.100.1:4500 error=fragmentation-needed errno=EMSGSIZE icmp=3/4 from=10.0.0.1 mtu=1280 suppressed=17\n");

        Assert.Equal(UdpErrorKind.FragmentationNeeded, notice.ErrorKind);
        Assert.Equal(1280, notice.Mtu);
        Assert.Equal(17, notice.Suppressed);
    }

    [Fact]
    public void UnknownVerbAndKeys_AreKept()
    {
        var notice = Parse("UDP-FUTURE dst=1.2.3.4:5 color=blue error=port-unreachable\n");

        Assert.Equal("UDP-FUTURE", notice.Verb);
        Assert.Equal("blue", notice["color"]);
        Assert.Equal(UdpErrorKind.PortUnreachable, notice.ErrorKind);
        Assert.Equal(3, notice.Fields.Count);
    }

    [Fact]
    public void UnknownErrorKind_IsUnknown()
    {
        Assert.Equal(UdpErrorKind.Unknown, Parse("UDP-ERROR error=quantum-decoherence\n").ErrorKind);
        Assert.Equal(UdpErrorKind.Unknown, Parse("UDP-ERROR error=unknown icmp=5/1\n").ErrorKind);
    }

    [Fact]
    public void Crlf_IsTolerated()
    {
        var notice = Parse("NOTICES version=1\r\n");

        Assert.Equal("NOTICES version=1", notice.Line);
        Assert.Equal(1, notice.Version);
    }

    [Fact]
    public void TokensWithoutEquals_AreSkipped()
    {
        var notice = Parse("UDP-ERROR oops dst=1.2.3.4:5 =x\n");

        Assert.Single(notice.Fields);
        Assert.Equal("1.2.3.4:5", notice.Destination);
    }

    [Theory]
    [InlineData("icmp=3")]
    [InlineData("icmp=/3")]
    [InlineData("icmp=3/")]
    [InlineData("icmp=256/0")]
    [InlineData("icmp=3/-1")]
    [InlineData("icmp=a/b")]
    public void MalformedTypeCode_IsNull(string field)
    {
        Assert.Null(Parse($"UDP-ERROR {field}\n").Icmp);
    }

    [Theory]
    [InlineData("mtu=x suppressed=y version=z from=not-an-address")]
    [InlineData("mtu=-1 suppressed=-1 version=+1 from=")]
    public void MalformedNumbersAndAddress_AreAbsent(string fields)
    {
        var notice = Parse($"X {fields}\n");

        Assert.Null(notice.Mtu);
        Assert.Null(notice.Version);
        Assert.Null(notice.From);
        Assert.Equal(0, notice.Suppressed);
    }

    [Fact]
    public void StringOverload_ParsesTheSame()
    {
        Assert.True(Notice.TryParse(NoticeExamples.PortUnreachable, out var notice));
        Assert.Equal(UdpErrorKind.PortUnreachable, notice!.ErrorKind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData(" dst=1.2.3.4:5\n")]
    public void LineWithoutVerb_IsRejected(string line)
    {
        Assert.False(Notice.TryParse(Ascii(line), out var notice));
        Assert.Null(notice);
    }

    [Theory]
    [InlineData("NOTICES version=1\r\r\n")]
    [InlineData("NOTICES version=1\n\n")]
    public void AnyTrailingLineEnd_IsTrimmedForFieldsAndLineAlike(string line)
    {
        Assert.True(Notice.TryParse(line, out var notice));
        Assert.Equal(1, notice!.Version);
        Assert.Equal("NOTICES version=1", notice.Line);
    }

    [Theory]
    [InlineData("[::1]:80")]
    [InlineData("1")]
    [InlineData("10.0.0.1:53")]
    public void FromThatIsNotABareAddress_IsNull(string from)
    {
        Assert.True(Notice.TryParse($"UDP-ERROR from={from}", out var notice));
        Assert.Null(notice!.From);
    }

    [Fact]
    public void TtlExceeded_WithReceivedTtlAndMapping()
    {
        var notice = Parse("UDP-ERROR dst=10.0.0.5:33434 error=ttl-exceeded errno=EHOSTUNREACH icmp=11/0 from=10.0.2.1 rttl=63 map=4\n");

        Assert.Equal(UdpErrorKind.TtlExceeded, notice.ErrorKind);
        Assert.Equal(63, notice.ReceivedTtl);
        Assert.Equal(4, notice.Mapping);
        Assert.Equal(IPAddress.Parse("10.0.2.1"), notice.From);
    }

    [Theory]
    [InlineData("rttl=256 map=65536")]
    [InlineData("rttl=-1 map=-1")]
    [InlineData("rttl=x map=x")]
    [InlineData("")]
    public void ReceivedTtlAndMapping_AbsentOrMalformed_AreNullAndZero(string fields)
    {
        var notice = Parse($"UDP-ERROR {fields}\n");

        Assert.Null(notice.ReceivedTtl);
        Assert.Equal(0, notice.Mapping);
    }

    [Theory]
    [InlineData("DST-CLOSED dst=10.0.0.5:53 reason=idle\n", DestinationClosedReasons.Idle, 0)]
    [InlineData("DST-CLOSED dst=10.0.0.5:53 map=2 reason=evicted\n", DestinationClosedReasons.Evicted, 2)]
    public void DestinationClosed_IsANotice(string line, string reason, ushort mapping)
    {
        var notice = Parse(line);

        Assert.Equal(NoticeVerbs.DestinationClosed, notice.Verb);
        Assert.Equal("10.0.0.5:53", notice.Destination);
        Assert.Equal(reason, notice.Reason);
        Assert.Equal(mapping, notice.Mapping);
        Assert.False(CommandAnswer.TryParse(line, out _));
    }

    [Fact]
    public void NewKeys_AreWrittenAsSpecified()
    {
        string? line = NoticeExamples.Build(NoticeVerbs.UdpError, static (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, IPAddress.Parse("10.0.0.5"), 33434);
            w.Add(NoticeKeys.Error, UdpErrorKind.TtlExceeded.ToWireName());
            w.Add(NoticeKeys.Errno, "EHOSTUNREACH");
            w.AddTypeCode(NoticeKeys.Icmp, 11, 0);
            w.AddAddress(NoticeKeys.From, IPAddress.Parse("10.0.2.1"));
            w.Add(NoticeKeys.ReceivedTtl, 63);
            w.Add(NoticeKeys.Mapping, 4);
        });

        Assert.Equal("UDP-ERROR dst=10.0.0.5:33434 error=ttl-exceeded errno=EHOSTUNREACH icmp=11/0 from=10.0.2.1 rttl=63 map=4\n", line);
    }
}
