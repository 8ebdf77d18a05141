using System.Diagnostics;
using System.Net;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>
/// The server's default resolver reading a namespace's own /etc/resolv.conf, as a Kubernetes pod
/// has one (<c>search svc.cluster.local</c>, <c>ndots:5</c>), against dnsmasq in that namespace;
/// and 200 lookups whose nameserver never answers, <c>Relay:Resolver=dns</c> against
/// <c>system</c>: how long they take and how many threads the server grows.
/// </summary>
public sealed class ResolverTopologyTests(ResolverTopologyFixture fixture, ITestOutputHelper output) : IClassFixture<ResolverTopologyFixture>
{
    private const int Lookups = 200;

    /// <summary>How long the notices of the 200 lookups are read: three times the deadline.</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    [DnsmasqFact(inNamespace: true)]
    public async Task ShortName_ResolvedThroughTheSearchDomain_Echoes()
    {
        await using var association = await fixture.Server.OpenAssociationAsync();

        await association.SendAsync("echo", ResolverTopologyFixture.EchoPort, "ping"u8.ToArray());

        Assert.Equal("ping", await ReceiveTextAsync(association));
        var asked = await QueriesUpToMarkerAsync(association);
        Assert.Equal(["A echo.svc.cluster.local", "AAAA echo.svc.cluster.local"], asked.Where(q => q.Split(' ')[1] is "echo.svc.cluster.local" or "echo").Order());
    }

    [DnsmasqFact(inNamespace: true)]
    public async Task AaaaOnlyName_EchoesOverIPv6()
    {
        await using var association = await fixture.Server.OpenAssociationAsync();

        await association.SendAsync("echo6", ResolverTopologyFixture.EchoPort, "ping6"u8.ToArray());

        Assert.Equal("ping6", await ReceiveTextAsync(association));
    }

    [DnsmasqFact(inNamespace: true)]
    public async Task HostsFileName_StillResolves()
    {
        await using var association = await fixture.Server.OpenAssociationAsync();

        await association.SendAsync("target.test", ResolverTopologyFixture.EchoPort, "hosts"u8.ToArray());

        Assert.Equal("hosts", await ReceiveTextAsync(association));
    }

    [DnsmasqFact(inNamespace: true)]
    public async Task UnknownName_NoSuchName_AfterTheSearchListAndTheNameItself()
    {
        await using var association = await fixture.Server.OpenAssociationAsync();

        await association.SendAsync("nosuch", 9, "x"u8.ToArray());

        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        var notice = await association.Notices.ReadAsync(timeout.Token);
        Assert.Equal("UDP-UNRESOLVED dst=nosuch:9 reason=no-such-name", notice.Line);
        var asked = await QueriesUpToMarkerAsync(association);
        Assert.Equal(["A nosuch.svc.cluster.local", "A nosuch"], asked.Where(q => q.StartsWith("A nosuch", StringComparison.Ordinal)));
    }

    /// <summary>
    /// One association sends datagrams to 200 names whose nameserver drops every query (an nft
    /// DROP inside the namespace; resolv.conf's defaults, 5 s and 2 attempts); the deadline is 1 s.
    /// The default resolver fails them all at the deadline without growing the server's threads.
    /// The system resolver is measured in the same window beside it: its lookups hold threads.
    /// </summary>
    [DnsmasqFact(inNamespace: true)]
    public async Task UnansweredNameserver_200Lookups_EndAtTheDeadline_WithoutThreads()
    {
        var dns = await MeasureAsync("dns");
        var system = await MeasureAsync("system");

        output.WriteLine($"dns:    {dns}");
        output.WriteLine($"system: {system}");
        Assert.Equal(Lookups, dns.TimedOut);
        Assert.InRange(dns.Elapsed, TimeSpan.FromSeconds(0.9), Window);
        Assert.InRange(dns.PeakThreads - dns.BaselineThreads, 0, 5);
        Assert.True(system.TimedOut < Lookups || system.PeakThreads - system.BaselineThreads > 10,
            $"the system resolver was expected to hold threads: dns {dns}; system {system}");
    }

    /// <summary>Sends the 200 datagrams and reads notices for at most <see cref="Window"/>, sampling the server's threads meanwhile.</summary>
    private async Task<Measurement> MeasureAsync(string resolver)
    {
        var server = await NamespaceServer.StartAsync(fixture.Topology, fixture.Topology.ClientNamespace,
            $"--Relay:Resolver={resolver}", "--Relay:ResolveTimeout=00:00:01",
            // Room for all 200 at once: this measures the resolver, not the caps in front of it (NameLimitTests does).
            "--Relay:MaxConcurrentLookups=256", "--Relay:MaxLookupsPerAssociation=256");
        try
        {
            await using var association = await server.OpenAssociationAsync();
            using (var warmUp = new CancellationTokenSource(TestTimeout.Default))
            {
                // One lookup first, so the resolver's code is loaded and compiled before the baseline.
                await association.SendAsync("warm-up.blackhole.test", 9, "x"u8.ToArray());
                Assert.Equal("UDP-UNRESOLVED dst=warm-up.blackhole.test:9 reason=timeout", (await association.Notices.ReadAsync(warmUp.Token)).Line);
            }

            int baseline = server.Threads();
            int peak = baseline;
            using var stopSampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!stopSampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, server.Threads());
                    await Task.Delay(10, CancellationToken.None);
                }
            });

            var clock = Stopwatch.StartNew();
            using var window = new CancellationTokenSource(Window);
            int timedOut = 0;
            var last = TimeSpan.Zero;
            try
            {
                for (int i = 0; i < Lookups; i++)
                {
                    await association.SendAsync($"n{i}.blackhole.test", 9, "x"u8.ToArray(), window.Token);
                }

                while (timedOut < Lookups)
                {
                    var notice = await association.Notices.ReadAsync(window.Token);
                    Assert.Equal(NoticeVerbs.UdpUnresolved, notice.Verb);
                    Assert.Equal(UnresolvedReasons.Timeout, notice.Reason);
                    timedOut++;
                    last = clock.Elapsed;
                }
            }
            catch (OperationCanceledException) when (window.IsCancellationRequested)
            {
                // The window closed first: the count says how far the server got.
            }

            await stopSampling.CancelAsync();
            await sampler;
            return new Measurement(timedOut, last, baseline, peak);
        }
        finally
        {
            server.Process.Dispose();
        }
    }

    /// <summary>
    /// What dnsmasq was asked, up to a marker name the test sends through the server last (its
    /// lookup ends in a notice, and its question is then awaited in dnsmasq's log).
    /// </summary>
    private async Task<IReadOnlyList<string>> QueriesUpToMarkerAsync(Socks5UdpAssociation association)
    {
        string marker = $"marker-{Guid.NewGuid():N}.";
        await association.SendAsync(marker, 9, "m"u8.ToArray());
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        Assert.Equal($"UDP-UNRESOLVED dst={marker}:9 reason=no-such-name", (await association.Notices.ReadAsync(timeout.Token)).Line);
        return await fixture.Dns.QueriesUpToAsync(marker);
    }

    private async Task<string> ReceiveTextAsync(Socks5UdpAssociation association)
    {
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        try
        {
            var result = await association.ReceiveAsync(buffer, timeout.Token);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, result.Length);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No echo within {TestTimeout.Default.TotalSeconds} s. Server log:\n{fixture.Server.Process.Output}");
        }
    }

    private sealed record Measurement(int TimedOut, TimeSpan Elapsed, int BaselineThreads, int PeakThreads)
    {
        public override string ToString() =>
            $"{TimedOut} of {Lookups} lookups ended (reason=timeout) within {Window.TotalSeconds} s, the last after {Elapsed.TotalSeconds:0.00} s; "
            + $"threads {BaselineThreads} before, at most {PeakThreads} during (+{PeakThreads - BaselineThreads})";
    }
}
