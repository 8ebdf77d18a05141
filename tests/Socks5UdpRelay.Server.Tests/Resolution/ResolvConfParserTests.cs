using System.Net;
using Socks5UdpRelay.Server.Resolution;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>/etc/resolv.conf read line by line with glibc's rules (resolv.conf(5), res_init.c).</summary>
public sealed class ResolvConfParserTests
{
    [Fact]
    public void NoFile_GlibcDefaults_NoServer()
    {
        var c = ResolvConfParser.Parse(null, hostName: "vm");

        Assert.Empty(c.NameServers);
        Assert.Empty(c.SearchDomains);
        Assert.Equal(1, c.Ndots);
        Assert.Equal(TimeSpan.FromSeconds(5), c.Timeout);
        Assert.Equal(2, c.Attempts);
        Assert.False(c.Rotate || c.UseTcp || c.NoTldQuery || c.NoAaaa);
    }

    [Fact]
    public void KubernetesPod()
    {
        var c = ResolvConfParser.Parse(
            "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n", "pod-1");

        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.96.0.10"), 53)], c.NameServers);
        Assert.Equal(["default.svc.cluster.local", "svc.cluster.local", "cluster.local"], c.SearchDomains);
        Assert.Equal(5, c.Ndots);
    }

    [Theory]
    [InlineData("# nameserver 10.0.0.1")]
    [InlineData("; nameserver 10.0.0.1")]
    [InlineData(" nameserver 10.0.0.1")] // the keyword must start the line
    [InlineData("nameserver\t")]
    [InlineData("nameserver")]
    [InlineData("nameserver10.0.0.1")]
    [InlineData("nameservers 10.0.0.1")]
    [InlineData("NAMESERVER 10.0.0.1")]
    [InlineData("nameserver 10.0.0.300")]
    [InlineData("nameserver dns.example")]
    [InlineData("nameserver [::1]")]
    public void NotANameServerLine_IsIgnored(string line) =>
        Assert.Empty(ResolvConfParser.Parse(line + "\n", null).NameServers);

    [Fact]
    public void NameServers_InOrder_AtMostThree_IPv6AndScope_TrailingWordsIgnored()
    {
        var c = ResolvConfParser.Parse(
            "nameserver 10.0.0.1 # the office\nnameserver\t2001:db8::53\nnameserver fe80::1%1\r\nnameserver 10.0.0.4\n", null);

        Assert.Equal(["10.0.0.1", "2001:db8::53", "fe80::1%1"], c.NameServers.Select(s => s.Address.ToString()));
        Assert.All(c.NameServers, s => Assert.Equal(53, s.Port));
    }

    [Fact]
    public void SearchLines_TheLastWins()
    {
        var c = ResolvConfParser.Parse("search a.example b.example\nsearch c.example\n", null);

        Assert.Equal(["c.example"], c.SearchDomains);
    }

    [Fact]
    public void SearchAndDomain_TheLastWins_DomainTakesOneWord()
    {
        Assert.Equal(["d.example"], ResolvConfParser.Parse("search a.example\ndomain d.example e.example\n", null).SearchDomains);
        Assert.Equal(["a.example", "b.example"], ResolvConfParser.Parse("domain d.example\nsearch a.example\tb.example\n", null).SearchDomains);
    }

    [Fact]
    public void SearchWithNothingAfterIt_IsIgnored()
    {
        var c = ResolvConfParser.Parse("search a.example\nsearch   \n", null);

        Assert.Equal(["a.example"], c.SearchDomains);
    }

    [Fact]
    public void SearchDomains_TrailingDotDropped_RootKept_NonNamesLeftOut()
    {
        var c = ResolvConfParser.Parse("search a.example. . # bad_label! b.example\n", null);

        Assert.Equal(["a.example", "", "b.example"], c.SearchDomains);
    }

    [Theory]
    [InlineData("vm.corp.example", "corp.example")]
    [InlineData("vm.corp.example.", "corp.example")]
    [InlineData("vm", null)]
    [InlineData("vm.", null)]
    [InlineData(null, null)]
    public void NoSearchNorDomain_TheHostNamesDomain(string? hostName, string? expected)
    {
        var c = ResolvConfParser.Parse("nameserver 10.0.0.1\n", hostName);

        Assert.Equal(expected is null ? [] : [expected], c.SearchDomains);
    }

    [Fact]
    public void SearchGiven_TheHostNameIsNotUsed() =>
        Assert.Equal(["a.example"], ResolvConfParser.Parse("search a.example\n", "vm.corp.example").SearchDomains);

    [Theory]
    [InlineData("options ndots:0", 0)]
    [InlineData("options ndots:5", 5)]
    [InlineData("options ndots:15", 15)]
    [InlineData("options ndots:16", 15)]
    [InlineData("options ndots:99999999999", 15)]
    [InlineData("options ndots:3x", 3)] // atoi reads the leading digits
    [InlineData("options ndots:", 1)]
    [InlineData("options ndots:x", 1)]
    [InlineData("options ndots:-2", 1)]
    [InlineData("options ndots 5", 1)]
    [InlineData("options ndots:2 ndots:4", 4)]
    [InlineData("options ndots:2\noptions ndots:3", 3)]
    [InlineData("options\tedns0 ndots:4 trust-ad", 4)]
    [InlineData("#options ndots:4", 1)]
    public void Ndots(string text, int expected) =>
        Assert.Equal(expected, ResolvConfParser.Parse(text, null).Ndots);

    [Theory]
    [InlineData("options timeout:1", 1)]
    [InlineData("options timeout:0", 1)] // glibc waits at least a second
    [InlineData("options timeout:30", 30)]
    [InlineData("options timeout:31", 30)]
    [InlineData("options timeout:abc", 5)]
    public void Timeout(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ResolvConfParser.Parse(text, null).Timeout);

    [Theory]
    [InlineData("options attempts:1", 1)]
    [InlineData("options attempts:0", 1)]
    [InlineData("options attempts:5", 5)]
    [InlineData("options attempts:6", 5)]
    [InlineData("options attempts:", 2)]
    public void Attempts(string text, int expected) =>
        Assert.Equal(expected, ResolvConfParser.Parse(text, null).Attempts);

    [Fact]
    public void Flags()
    {
        var c = ResolvConfParser.Parse("options rotate use-vc no-aaaa\noptions no_tld_query\n", null);

        Assert.True(c.Rotate);
        Assert.True(c.UseTcp);
        Assert.True(c.NoAaaa);
        Assert.True(c.NoTldQuery);
        Assert.True(ResolvConfParser.Parse("options no-tld-query\n", null).NoTldQuery);
    }

    [Fact]
    public void UnknownKeywordsAndOptions_ChangeNothing()
    {
        var c = ResolvConfParser.Parse("sortlist 10.0.0.0/255.0.0.0\nlookup file bind\noptions inet6 debug single-request ndots\nrandom text\n\n", null);

        Assert.Equal(new ResolverConfiguration() with { NameServers = c.NameServers, SearchDomains = c.SearchDomains }, c);
    }
}
