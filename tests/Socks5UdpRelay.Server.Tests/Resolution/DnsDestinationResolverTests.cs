using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>
/// The default resolver against a real DNS server (dnsmasq on a loopback port) and a real
/// nameserver that never answers: glibc's search-list order, the failure each answer maps to,
/// and lookups that stop at their deadline. What each server was asked is read from its own log.
/// </summary>
public sealed class DnsDestinationResolverTests(DnsmasqLoopbackFixture fixture) : IClassFixture<DnsmasqLoopbackFixture>
{
    private static readonly TimeSpan Bound = TestTimeout.Default;

    [DnsmasqFact]
    public async Task ShortName_Ndots5_AsksTheSearchExpansionFirstAndUsesIt()
    {
        var resolver = Resolver(Kubernetes());

        var addresses = await resolver.ResolveAsync("api", CancellationToken.None).WaitAsync(Bound);

        // "api" itself also has a record (10.0.0.99): the search-expanded name wins because it is asked first.
        Assert.Equal([IPAddress.Parse("10.96.0.10")], addresses);
        Assert.Equal(["A api.svc.cluster.local", "AAAA api.svc.cluster.local"], (await AskedAsync("api")).Order());
    }

    [DnsmasqFact]
    public async Task NameWithNdotsDots_IsAskedAsIsFirst()
    {
        var resolver = Resolver(Kubernetes());

        var addresses = await resolver.ResolveAsync("a.b.c.d.e.f", CancellationToken.None).WaitAsync(Bound);

        Assert.Equal([IPAddress.Parse("10.0.0.6")], addresses);
        Assert.Equal(["A a.b.c.d.e.f", "AAAA a.b.c.d.e.f"], (await AskedAsync("a")).Order());
    }

    [DnsmasqFact]
    public async Task AbsoluteName_IsAskedAsIsOnly()
    {
        var resolver = Resolver(Kubernetes());

        var found = await resolver.ResolveAsync("abs.svc.cluster.local.", CancellationToken.None).WaitAsync(Bound);
        var missing = await Assert.ThrowsAsync<SocketException>(() => resolver.ResolveAsync("gone.", CancellationToken.None).WaitAsync(Bound));

        Assert.Equal([IPAddress.Parse("10.96.0.12")], found);
        Assert.Equal(["A abs.svc.cluster.local", "AAAA abs.svc.cluster.local"], (await AskedAsync("abs")).Order());
        Assert.Equal(SocketError.HostNotFound, missing.SocketErrorCode);
        Assert.Equal(["A gone", "AAAA gone"], (await AskedAsync("gone")).Order());
    }

    [DnsmasqFact]
    public async Task NxDomainEverywhere_IsHostNotFound_AfterEverySearchDomainThenTheNameItself()
    {
        var resolver = Resolver(Kubernetes() with { SearchDomains = ["svc.cluster.local", "cluster.local"], NoAaaa = true });

        var e = await Assert.ThrowsAsync<SocketException>(() => resolver.ResolveAsync("nowhere", CancellationToken.None).WaitAsync(Bound));

        Assert.Equal(SocketError.HostNotFound, e.SocketErrorCode);
        Assert.Equal(["A nowhere.svc.cluster.local", "A nowhere.cluster.local", "A nowhere"], await AskedAsync("nowhere"));
    }

    [DnsmasqFact]
    public async Task AaaaOnly_GivesTheIPv6Address()
    {
        var addresses = await Resolver(Kubernetes()).ResolveAsync("v6only", CancellationToken.None).WaitAsync(Bound);

        Assert.Equal([IPAddress.Parse("fd00::53")], addresses);
    }

    [DnsmasqFact]
    public async Task BothFamilies_AllAddresses_IPv4First()
    {
        var addresses = await Resolver(Kubernetes()).ResolveAsync("DUAL", CancellationToken.None).WaitAsync(Bound);

        Assert.Equal([IPAddress.Parse("10.96.0.11"), IPAddress.Parse("fd00::11")], addresses);
    }

    [DnsmasqFact]
    public async Task NameWithoutAddresses_IsNoData()
    {
        var e = await Assert.ThrowsAsync<SocketException>(() => Resolver(Kubernetes()).ResolveAsync("txtonly", CancellationToken.None).WaitAsync(Bound));

        Assert.Equal(SocketError.NoData, e.SocketErrorCode);
    }

    [DnsmasqFact]
    public async Task UseVc_AsksOverTcp()
    {
        var addresses = await Resolver(Kubernetes() with { UseTcp = true }).ResolveAsync("dual", CancellationToken.None).WaitAsync(Bound);

        Assert.Equal([IPAddress.Parse("10.96.0.11"), IPAddress.Parse("fd00::11")], addresses);
    }

    [DnsmasqFact]
    public async Task HostsFile_AnswersBeforeDns()
    {
        var hosts = HostsFile.Parse("10.9.9.9 hosted.test\n");
        var resolver = new DnsDestinationResolver(() => hosts, Kubernetes, Timeout.InfiniteTimeSpan);

        var addresses = await resolver.ResolveAsync("HOSTED.test", CancellationToken.None).WaitAsync(Bound);

        Assert.Equal([IPAddress.Parse("10.9.9.9")], addresses);
        Assert.Empty(await AskedAsync("hosted.test"));
    }

    [Fact]
    public async Task NoNameServer_IsHostNotFoundAtOnce()
    {
        var resolver = Resolver(new ResolverConfiguration());

        var e = await Assert.ThrowsAsync<SocketException>(() => resolver.ResolveAsync("anything.test", CancellationToken.None));

        Assert.Equal(SocketError.HostNotFound, e.SocketErrorCode);
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("-lead.test")]
    [InlineData("")]
    public async Task NotAHostName_IsHostNotFoundWithoutAQuery(string name)
    {
        await using var silent = new SilentDnsServer();

        var e = await Assert.ThrowsAsync<SocketException>(() => Resolver(Silent(silent)).ResolveAsync(name, CancellationToken.None));

        Assert.Equal(SocketError.HostNotFound, e.SocketErrorCode);
        Assert.Equal(0, silent.Received);
    }

    [Fact]
    public async Task AddressLiteral_IsItsOwnAnswer()
    {
        var addresses = await Resolver(new ResolverConfiguration()).ResolveAsync("192.0.2.7", CancellationToken.None);

        Assert.Equal([IPAddress.Parse("192.0.2.7")], addresses);
    }

    [Fact]
    public async Task SilentServer_EveryAttemptAsked_ThenTryAgain()
    {
        await using var silent = new SilentDnsServer();
        var resolver = Resolver(Silent(silent) with { Timeout = TimeSpan.FromSeconds(1), Attempts = 2, NoAaaa = true });

        var e = await Assert.ThrowsAsync<SocketException>(() => resolver.ResolveAsync("quiet.test", CancellationToken.None).WaitAsync(Bound));

        Assert.Equal(SocketError.TryAgain, e.SocketErrorCode);
        Assert.Equal(2, silent.Received); // one A query per attempt; no search list, so one name
    }

    [DnsmasqFact]
    public async Task SilentFirstServer_TheNextOneAnswers()
    {
        await using var silent = new SilentDnsServer();
        var resolver = Resolver(Kubernetes() with { NameServers = [silent.EndPoint, fixture.Server.EndPoint], Timeout = TimeSpan.FromSeconds(1) });

        var addresses = await resolver.ResolveAsync("web.svc.cluster.local.", CancellationToken.None).WaitAsync(Bound);

        Assert.Equal([IPAddress.Parse("10.96.0.13")], addresses);
        Assert.Equal(2, silent.Received); // A and AAAA, each once, before the second server was asked
    }

    [DnsmasqFact]
    public async Task Rotate_EachLookupStartsAtTheNextServer()
    {
        await using var silent = new SilentDnsServer();
        var resolver = Resolver(Kubernetes() with { NameServers = [silent.EndPoint, fixture.Server.EndPoint], Timeout = TimeSpan.FromSeconds(1), Rotate = true, NoAaaa = true });

        var first = await resolver.ResolveAsync("web.svc.cluster.local.", CancellationToken.None).WaitAsync(Bound);
        var second = await resolver.ResolveAsync("dual.svc.cluster.local.", CancellationToken.None).WaitAsync(Bound);

        // Both answered; of the two lookups exactly one started at the silent server (one A query).
        Assert.NotEmpty(first);
        Assert.NotEmpty(second);
        Assert.Equal(1, silent.Received);
    }

    /// <summary>
    /// The deadline comes in the token (<see cref="CachingResolver"/> makes it): when it passes, the
    /// query's socket is closed and the lookup ends, though resolv.conf's timeout and attempts
    /// would go on for 5 s; the server that never answers is asked nothing more.
    /// </summary>
    [Fact]
    public async Task Deadline_EndsTheLookup_AndNothingIsSentAfterIt()
    {
        await using var silent = new SilentDnsServer();
        var resolver = Resolver(Silent(silent) with { Timeout = TimeSpan.FromSeconds(1), Attempts = 5, NoAaaa = true });
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resolver.ResolveAsync("quiet.test", deadline.Token).WaitAsync(Bound));
        var elapsed = clock.Elapsed;
        int atDeadline = silent.Received;
        await Task.Delay(TimeSpan.FromSeconds(2)); // a third attempt would have gone out 0.5 s after the deadline

        Assert.InRange(elapsed, TimeSpan.FromSeconds(1.4), TimeSpan.FromSeconds(5));
        Assert.InRange(atDeadline, 1, 2);
        Assert.Equal(atDeadline, silent.Received);
    }

    /// <summary>The resolver's own limit (the server gives it <c>Relay:ResolveTimeout</c>) ends a lookup whose caller never cancels: TryAgain, and silence after it.</summary>
    [Fact]
    public async Task OwnLimit_EndsTheLookup_AsTryAgain_AndNothingIsSentAfterIt()
    {
        await using var silent = new SilentDnsServer();
        var resolver = Resolver(Silent(silent) with { Timeout = TimeSpan.FromSeconds(1), Attempts = 5, NoAaaa = true }, limit: TimeSpan.FromSeconds(1.5));

        var e = await Assert.ThrowsAsync<SocketException>(() => resolver.ResolveAsync("quiet.test", CancellationToken.None).WaitAsync(Bound));
        int atLimit = silent.Received;
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Equal(SocketError.TryAgain, e.SocketErrorCode);
        Assert.InRange(atLimit, 1, 2);
        Assert.Equal(atLimit, silent.Received);
    }

    [DnsmasqFact]
    public async Task ThroughCachingResolver_FailuresMapToTheNoticeReasons()
    {
        var caching = new CachingResolver(Resolver(Kubernetes()), new ResolverSettings(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5), PreferIPv6: false, MaxConcurrentLookups: 64), TimeProvider.System);

        var nx = await caching.ResolveAsync("nothing-here", CancellationToken.None).AsTask().WaitAsync(Bound);
        var noData = await caching.ResolveAsync("txtonly", CancellationToken.None).AsTask().WaitAsync(Bound);
        var v6 = await caching.ResolveAsync("v6only", CancellationToken.None).AsTask().WaitAsync(Bound);

        Assert.Equal((null, ResolveFailure.NoSuchName), nx);
        Assert.Equal((null, ResolveFailure.NoAddress), noData);
        Assert.Equal(IPAddress.Parse("fd00::53"), v6.Address);
    }

    /// <summary>A Kubernetes pod's resolv.conf, pointed at the test's dnsmasq.</summary>
    private ResolverConfiguration Kubernetes() => new()
    {
        NameServers = [fixture.Server.EndPoint],
        SearchDomains = ["svc.cluster.local"],
        Ndots = 5,
        Timeout = TimeSpan.FromSeconds(2),
        Attempts = 1,
    };

    private static ResolverConfiguration Silent(SilentDnsServer server) => new() { NameServers = [server.EndPoint] };

    private static DnsDestinationResolver Resolver(ResolverConfiguration configuration, TimeSpan? limit = null) =>
        new(() => HostsFile.Empty, () => configuration, limit ?? Timeout.InfiniteTimeSpan);

    /// <summary>The questions dnsmasq received about <paramref name="label"/> and names under it (each test asks its own).</summary>
    private async Task<List<string>> AskedAsync(string label) =>
        [.. (await fixture.Server.QueriesAsync()).Where(q => q.Split(' ')[1] == label || q.Split(' ')[1].StartsWith(label + ".", StringComparison.Ordinal))];
}
