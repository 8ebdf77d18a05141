using System.Net;
using Socks5UdpRelay.Gateway.Notices;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Gateway.Tests.Notices;

public sealed class NoticeIcmpMappingTests
{
    private static readonly IPAddress s_destinationV4 = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress s_destinationV6 = IPAddress.Parse("2001:db8::7");
    private static readonly IPAddress s_local = IPAddress.Parse("10.0.0.2");

    [Fact]
    public void PortUnreachableWithIcmp_TakesTypeCodeReporterAndRttl()
    {
        var spec = Map("UDP-ERROR dst=203.0.113.7:555 error=port-unreachable errno=ECONNREFUSED icmp=3/3 from=203.0.113.7 rttl=52", v6: false);

        Assert.Equal(new IcmpErrorSpec(3, 3, 0, s_destinationV4, 52), spec);
    }

    [Fact]
    public void GivenTypeCode_IsKeptEvenWhereTheKindTableWouldChooseAnother()
    {
        var spec = Map("UDP-ERROR dst=203.0.113.7:53 error=host-unreachable errno=EHOSTUNREACH icmp=3/7 from=192.0.2.1", v6: false);

        Assert.Equal((3, 7), (spec.Type, spec.Code));
        Assert.Equal(IPAddress.Parse("192.0.2.1"), spec.Reporter);
        Assert.Equal(NoticeIcmpMapping.DefaultTtl, spec.Ttl);
    }

    [Theory]
    [InlineData("port-unreachable", false, 3, 3)]
    [InlineData("port-unreachable", true, 1, 4)]
    [InlineData("host-unreachable", false, 3, 1)]
    [InlineData("host-unreachable", true, 1, 3)]
    [InlineData("net-unreachable", false, 3, 0)]
    [InlineData("net-unreachable", true, 1, 0)]
    [InlineData("protocol-unreachable", false, 3, 2)]
    [InlineData("protocol-unreachable", true, 4, 1)]
    [InlineData("admin-prohibited", false, 3, 13)]
    [InlineData("admin-prohibited", true, 1, 1)]
    [InlineData("fragmentation-needed", false, 3, 4)]
    [InlineData("fragmentation-needed", true, 2, 0)]
    [InlineData("ttl-exceeded", false, 11, 0)]
    [InlineData("ttl-exceeded", true, 3, 0)]
    public void KindWithoutTypeCode_MapsFromTheKindTable(string kind, bool v6, byte type, byte code)
    {
        var spec = Map($"UDP-ERROR dst={Dst(v6)} error={kind} errno=EX", v6);

        Assert.Equal((type, code), (spec.Type, spec.Code));
        Assert.Equal(v6 ? s_destinationV6 : s_destinationV4, spec.Reporter);
    }

    [Fact]
    public void TypeCodeOfTheOtherFamily_FallsBackToTheKind()
    {
        var spec = Map("UDP-ERROR dst=[2001:db8::7]:53 error=port-unreachable icmp=3/3 from=2001:db8::7", v6: true);

        Assert.Equal((1, 4), (spec.Type, spec.Code));
    }

    [Fact]
    public void Icmp6GivenForAnIPv6Flow_IsKept()
    {
        var spec = Map("UDP-ERROR dst=[2001:db8::7]:53 error=admin-prohibited errno=EACCES icmp6=1/5 from=2001:db8::1", v6: true);

        Assert.Equal(new IcmpErrorSpec(1, 5, 0, IPAddress.Parse("2001:db8::1"), 64), spec);
    }

    [Theory]
    [InlineData("UDP-ERROR dst=203.0.113.7:53 error=unknown errno=ENOBUFS")]
    [InlineData("UDP-ERROR dst=203.0.113.7:53 error=unknown icmp=5/1 from=192.0.2.1")] // a redirect is no error for a socket
    [InlineData("UDP-ERROR dst=203.0.113.7:53 error=no-such-kind")]
    [InlineData("UDP-DENIED dst=203.0.113.7:53 reason=rate-limit")]
    public void NoIcmpCounterpart_IsReported(string line) =>
        Assert.Equal(NoticeMappingResult.NoIcmpEquivalent, TryMap(line, v6: false, out _));

    [Fact]
    public void UnknownKindWithAnErrorTypeCode_KeepsIt() =>
        Assert.Equal((3, 15), Pair(Map("UDP-ERROR dst=203.0.113.7:53 error=unknown icmp=3/15 from=192.0.2.1", v6: false)));

    [Theory]
    [InlineData("NOTICES version=1")]
    [InlineData("CLOSING reason=idle-timeout")]
    [InlineData("DST-CLOSED dst=203.0.113.7:53 reason=idle")]
    [InlineData("SET-OK dst=203.0.113.7:53 ttl=3")]
    public void LinesThatReportNoError_AreNotErrors(string line) =>
        Assert.Equal(NoticeMappingResult.NotAnError, TryMap(line, v6: false, out _));

    [Theory]
    [InlineData("policy", false, 3, 13)]
    [InlineData("too-large", false, 3, 13)]
    [InlineData("policy", true, 1, 1)]
    public void Denied_IsAdminProhibitedFromTheDestination(string reason, bool v6, byte type, byte code)
    {
        var spec = Map($"UDP-DENIED dst={Dst(v6)} reason={reason}", v6);

        Assert.Equal((type, code), Pair(spec));
        Assert.Equal(v6 ? s_destinationV6 : s_destinationV4, spec.Reporter);
    }

    [Theory]
    [InlineData(false, 3, 1)]
    [InlineData(true, 1, 3)]
    public void Unresolved_IsHostUnreachable(bool v6, byte type, byte code) =>
        Assert.Equal((type, code), Pair(Map($"UDP-UNRESOLVED dst={Dst(v6)} reason=no-such-name", v6)));

    [Theory]
    [InlineData("10.0.0.2")] // one of the host's own addresses: a martian source
    [InlineData("127.0.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("2001:db8::1")] // the other family
    public void UnusableReporter_IsReplacedByTheDestination(string from)
    {
        var spec = Map($"UDP-ERROR dst=203.0.113.7:53 error=port-unreachable icmp=3/3 from={from}", v6: false);

        Assert.Equal(s_destinationV4, spec.Reporter);
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("ff02::1")]
    [InlineData("192.0.2.1")]
    public void UnusableIPv6Reporter_IsReplacedByTheDestination(string from) =>
        Assert.Equal(s_destinationV6, Map($"UDP-ERROR dst=[2001:db8::7]:53 error=port-unreachable icmp6=1/4 from={from}", v6: true).Reporter);

    [Fact]
    public void MissingReporter_IsTheDestination() =>
        Assert.Equal(s_destinationV4, Map("UDP-ERROR dst=203.0.113.7:53 error=port-unreachable errno=ECONNREFUSED", v6: false).Reporter);

    [Theory]
    [InlineData("rttl=1", 1)]
    [InlineData("rttl=255", 255)]
    [InlineData("rttl=0", 64)]
    [InlineData("rttl=256", 64)]
    [InlineData("rttl=x", 64)]
    [InlineData("", 64)]
    public void Rttl_BecomesTheTtlWhenValid(string field, byte expected) =>
        Assert.Equal(expected, Map($"UDP-ERROR dst=203.0.113.7:53 error=ttl-exceeded icmp=11/0 from=192.0.2.1 {field}".TrimEnd(), v6: false).Ttl);

    [Theory]
    [InlineData("mtu=1280", false, 1280u)]
    [InlineData("", false, 576u)]
    [InlineData("mtu=70000", false, 65535u)]
    [InlineData("mtu=1400", true, 1400u)]
    [InlineData("", true, 1280u)]
    public void FragmentationNeeded_CarriesTheMtuOrTheMinimum(string field, bool v6, uint expected)
    {
        var spec = Map($"UDP-ERROR dst={Dst(v6)} error=fragmentation-needed errno=EMSGSIZE {field}".TrimEnd(), v6);

        Assert.Equal(expected, spec.Info);
    }

    [Fact]
    public void ProtocolUnreachableOnIPv6_PointsAtNextHeader() =>
        Assert.Equal(6u, Map("UDP-ERROR dst=[2001:db8::7]:53 error=protocol-unreachable errno=ENOPROTOOPT", v6: true).Info);

    private static string Dst(bool v6) => v6 ? "[2001:db8::7]:53" : "203.0.113.7:53";

    private static (byte, byte) Pair(IcmpErrorSpec spec) => (spec.Type, spec.Code);

    private static IcmpErrorSpec Map(string line, bool v6)
    {
        Assert.Equal(NoticeMappingResult.Injected, TryMap(line, v6, out var spec));
        return spec;
    }

    private static NoticeMappingResult TryMap(string line, bool v6, out IcmpErrorSpec spec)
    {
        Assert.True(Notice.TryParse(line, out var notice));
        NoticeIcmpMapping.TryMap(notice, v6, v6 ? s_destinationV6 : s_destinationV4, a => a.Equals(s_local), out spec, out var result);
        return result;
    }
}
