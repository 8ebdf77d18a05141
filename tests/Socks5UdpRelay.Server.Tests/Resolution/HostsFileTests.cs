using System.Net;
using Socks5UdpRelay.Server.Resolution;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>/etc/hosts read line by line as glibc's files backend reads it (hosts(5)).</summary>
public sealed class HostsFileTests
{
    [Fact]
    public void CanonicalNameAndAliases_BothFamilies_InFileOrder()
    {
        var hosts = HostsFile.Parse("10.201.4.2 target.test target\nfd00:201:4::2\ttarget.test\n127.0.0.1 localhost\n");

        Assert.Equal([IPAddress.Parse("10.201.4.2"), IPAddress.Parse("fd00:201:4::2")], hosts.Find("target.test"));
        Assert.Equal([IPAddress.Parse("10.201.4.2")], hosts.Find("target"));
        Assert.Equal([IPAddress.Loopback], hosts.Find("localhost"));
        Assert.Null(hosts.Find("other.test"));
    }

    [Theory]
    [InlineData("TARGET.test")]
    [InlineData("target.TEST.")]
    public void Names_MatchWithoutCase_AndWithATrailingDot(string name) =>
        Assert.Equal([IPAddress.Parse("10.0.0.1")], HostsFile.Parse("10.0.0.1 Target.Test\n").Find(name));

    [Fact]
    public void Comments_WholeLineAndTrailing()
    {
        var hosts = HostsFile.Parse("# 10.0.0.9 hidden\n10.0.0.1 shown # 10.0.0.2 alias\n10.0.0.3 # nothing named\n");

        Assert.Null(hosts.Find("hidden"));
        Assert.Null(hosts.Find("alias"));
        Assert.Equal([IPAddress.Parse("10.0.0.1")], hosts.Find("shown"));
        Assert.Equal(1, hosts.Count);
    }

    [Theory]
    [InlineData("10.1 short.test")] // inet_aton's short form: not for inet_pton
    [InlineData("10.0.0.256 big.test")]
    [InlineData("0x0a.0.0.1 hex.test")]
    [InlineData("fe80::1%eth0 zone.test")]
    [InlineData("[::1] bracket.test")]
    [InlineData("host.test 10.0.0.1")]
    [InlineData("10.0.0.1")]
    [InlineData("")]
    public void MalformedLine_IsIgnored(string line) =>
        Assert.Equal(0, HostsFile.Parse(line + "\n").Count);

    [Fact]
    public void SameAddressTwice_ListedOnce_CrLfTolerated()
    {
        var hosts = HostsFile.Parse("10.0.0.1 twice.test\r\n10.0.0.1 twice.test\r\n::ffff:10.0.0.1 twice.test\r\n");

        Assert.Equal([IPAddress.Parse("10.0.0.1"), IPAddress.Parse("::ffff:10.0.0.1")], hosts.Find("twice.test"));
    }

    [Fact]
    public void NoFile_IsEmpty() => Assert.Equal(0, HostsFile.Parse(null).Count);
}
