using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary>Notices in nc's words.</summary>
public sealed class NoticeTextTests
{
    [Theory]
    [InlineData("UDP-ERROR dst=127.0.0.1:5999 error=port-unreachable errno=ECONNREFUSED icmp=3/3 from=127.0.0.1",
        "127.0.0.1:5999: Connection refused (port-unreachable, reported by 127.0.0.1)")]
    [InlineData("UDP-ERROR dst=ntp.example:123 addr=192.0.2.9:123 error=host-unreachable errno=EHOSTUNREACH icmp=3/1 from=192.0.2.1",
        "ntp.example:123 (192.0.2.9:123): No route to host (host-unreachable, reported by 192.0.2.1)")]
    [InlineData("UDP-ERROR dst=[2001:db8::7]:53 error=admin-prohibited errno=EACCES icmp6=1/1 from=2001:db8::1 suppressed=3",
        "[2001:db8::7]:53: Communication administratively prohibited (admin-prohibited, reported by 2001:db8::1, 3 more not reported)")]
    [InlineData("UDP-ERROR dst=192.0.2.7:9 error=fragmentation-needed errno=EMSGSIZE icmp=3/4 mtu=1280 from=192.0.2.1",
        "192.0.2.7:9: Message too long (fragmentation-needed, path MTU 1280, reported by 192.0.2.1)")]
    [InlineData("UDP-ERROR dst=192.0.2.7:9 error=unknown errno=EPROTO icmp=12/0",
        "192.0.2.7:9: Error EPROTO (unknown, ICMP 12/0)")]
    [InlineData("UDP-DENIED dst=169.254.169.254:80 reason=policy",
        "169.254.169.254:80: the proxy refused to forward the datagram (policy)")]
    [InlineData("UDP-UNRESOLVED dst=my%20host:53 reason=no-such-name",
        "my%20host:53: the proxy could not resolve the name (no-such-name)")]
    [InlineData("UDP-UNRESOLVED dst=a%5Fb.example:53 reason=timeout",
        "a_b.example:53: the proxy could not resolve the name (timeout)")]
    public void Describe_ReadsLikeNc(string line, string expected)
    {
        Assert.True(Notice.TryParse(line, out var notice));

        Assert.Equal(expected, NoticeText.Describe(notice));
    }

    [Theory]
    [InlineData("NOTICES version=1")]
    [InlineData("CLOSING reason=idle-timeout")]
    [InlineData("FUTURE-VERB x=1")]
    public void Describe_NotAboutADestination_IsNull(string line)
    {
        Assert.True(Notice.TryParse(line, out var notice));

        Assert.Null(NoticeText.Describe(notice));
    }
}
