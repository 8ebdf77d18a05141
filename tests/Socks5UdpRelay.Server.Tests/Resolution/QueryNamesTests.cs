using Socks5UdpRelay.Server.Resolution;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>Which names a lookup asks for, in which order: glibc's res_search with search, ndots and no-tld-query.</summary>
public sealed class QueryNamesTests
{
    private static readonly ResolverConfiguration Pod = new()
    {
        SearchDomains = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"],
        Ndots = 5,
    };

    [Fact]
    public void FewerDotsThanNdots_SearchListFirst_ThenAsIs() =>
        Assert.Equal(
            ["web.default.svc.cluster.local", "web.svc.cluster.local", "web.cluster.local", "web"],
            Pod.QueryNames("web"));

    [Fact]
    public void ExternalNameInAPod_StillSearchedFirst() =>
        Assert.Equal(
            ["example.com.default.svc.cluster.local", "example.com.svc.cluster.local", "example.com.cluster.local", "example.com"],
            Pod.QueryNames("example.com"));

    [Fact]
    public void AtLeastNdotsDots_AsIsFirst_ThenSearchList() =>
        Assert.Equal(
            ["a.b.c.d.e.f", "a.b.c.d.e.f.default.svc.cluster.local", "a.b.c.d.e.f.svc.cluster.local", "a.b.c.d.e.f.cluster.local"],
            Pod.QueryNames("a.b.c.d.e.f"));

    [Fact]
    public void TrailingDot_AbsoluteAsIsOnly() =>
        Assert.Equal(["web.svc.cluster.local"], Pod.QueryNames("web.svc.cluster.local."));

    [Fact]
    public void DefaultNdots_OneDotIsEnough()
    {
        var c = new ResolverConfiguration { SearchDomains = ["corp.example"] };

        Assert.Equal(["ntp.example", "ntp.example.corp.example"], c.QueryNames("ntp.example"));
        Assert.Equal(["printer.corp.example", "printer"], c.QueryNames("printer"));
        Assert.True(c.AsksAsIsFirst("ntp.example"));
        Assert.False(c.AsksAsIsFirst("printer"));
    }

    [Fact]
    public void NoSearchList_AsIsOnly() =>
        Assert.Equal(["printer"], new ResolverConfiguration().QueryNames("printer"));

    [Fact]
    public void NoTldQuery_ADotlessNameIsNotAskedAsIs()
    {
        var c = new ResolverConfiguration { SearchDomains = ["corp.example"], NoTldQuery = true };

        Assert.Equal(["printer.corp.example"], c.QueryNames("printer"));
        Assert.Equal(["ntp.example", "ntp.example.corp.example"], c.QueryNames("ntp.example"));
        Assert.Equal(["printer"], new ResolverConfiguration { NoTldQuery = true }.QueryNames("printer"));
    }

    [Fact]
    public void RootSearchDomain_StandsForTheNameItself_AskedOnce() =>
        Assert.Equal(["printer.corp.example", "printer"], new ResolverConfiguration { SearchDomains = ["corp.example", ""] }.QueryNames("printer"));

    [Fact]
    public void ExpansionsTooLongForDns_AreLeftOut()
    {
        string name = string.Join('.', Enumerable.Repeat(new string('a', 60), 4)); // 243 characters
        var c = new ResolverConfiguration { SearchDomains = ["corp.example"], Ndots = 5 };

        Assert.Equal([name], c.QueryNames(name));
    }
}
