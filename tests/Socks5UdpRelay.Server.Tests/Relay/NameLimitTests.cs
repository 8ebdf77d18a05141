using System.Net;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Tests.Fakes;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>
/// Names that never resolve cost a bounded number of lookups and bytes (README, "Security"):
/// past the association's lookups, its bytes, or the server's bytes, a datagram is refused at
/// once with <c>UDP-UNRESOLVED reason=busy</c>, and every byte goes back when its lookup ends.
/// </summary>
public sealed class NameLimitTests
{
    [Fact]
    public async Task LookupsPastTheAssociationsShare_AreRefusedAtOnce_AsBusy()
    {
        await using var h = new AssociationHarness(AssociationHarness.Settings(lookups: 2));
        h.Resolver.Hang("a.test").Hang("b.test").Hang("c.test");
        h.Start();
        foreach (string name in new[] { "a.test", "b.test", "c.test" })
        {
            h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram(name, 53, "q"u8));
        }

        Assert.Equal(["UDP-UNRESOLVED dst=c.test:53 reason=busy"], h.Notices.Lines);
        Assert.Equal(1, h.Counters.Dropped(DropReason.ResolverBusy));
        await Eventually.TrueAsync(() => h.Resolver.Lookups == 2);

        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("a.test", 53, "again"u8));
        Assert.Equal(1, h.Counters.Dropped(DropReason.ResolverBusy)); // a name already being looked up just waits
    }

    [Fact]
    public async Task BytesPastTheAssociationsShare_AreRefused_AndComeBackWhenTheLookupEnds()
    {
        await using var h = new AssociationHarness(AssociationHarness.Settings(nameBytes: 1000));
        var answer = new TaskCompletionSource<IPAddress[]>();
        h.Resolver.Answer("big.test", () => answer.Task);
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("big.test", 53, new byte[600]));
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("big.test", 53, new byte[600]));
        Assert.Equal(["UDP-UNRESOLVED dst=big.test:53 reason=busy"], h.Notices.Lines);
        Assert.Equal(600, h.NameBytes.Used);

        answer.SetResult([IPAddress.Parse("198.51.100.1")]);
        await h.Loop.WaitForPostAsync(TestTimeout.Token);
        h.Loop.RunPending();
        Assert.Equal(0, h.NameBytes.Used);
        Assert.Equal([600], h.Loop.Opened.Single().Sent.Select(p => p.Length));
    }

    [Fact]
    public async Task BytesPastTheServersBudget_AreRefused_WhateverTheAssociationsShare()
    {
        await using var h = new AssociationHarness(AssociationHarness.Settings(nameBytes: 1 << 20), serverNameBytes: 1000);
        h.Resolver.Hang("big.test");
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("big.test", 53, new byte[900]));
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("big.test", 53, new byte[200]));
        Assert.Equal(900, h.NameBytes.Used);
        Assert.Equal(1, h.Counters.Dropped(DropReason.ResolverBusy));
    }

    [Fact]
    public async Task EndingTheAssociation_GivesEveryWaitingByteBack()
    {
        var h = new AssociationHarness();
        h.Resolver.Hang("a.test").Hang("b.test");
        h.Start();
        h.Client.Deliver(AssociationHarness.ClientUdp, AssociationHarness.Datagram("a.test", 53, new byte[100]), AssociationHarness.Datagram("b.test", 53, new byte[50]));
        Assert.Equal(150, h.NameBytes.Used);

        await h.EndAsync(AssociationEnd.ClientClosed);
        await Eventually.TrueAsync(() =>
        {
            h.Loop.RunPending(); // the cancelled lookups report back to the loop
            return h.NameBytes.Used == 0;
        });
        Assert.Empty(h.Loop.Opened);
        await h.DisposeAsync();
    }

    [Fact]
    public async Task ServerWideCap_RefusesAtOnce_AndHoldsASlotUntilTheLookupItselfEnds()
    {
        var time = new ManualTimeProvider();
        var resolver = new FakeResolver().Hang("a.test").Hang("b.test").Hang("c.test");
        var caching = new CachingResolver(resolver, new ResolverSettings(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5), false, MaxConcurrentLookups: 2), time);
        var a = caching.ResolveAsync("a.test", CancellationToken.None).AsTask();
        var b = caching.ResolveAsync("b.test", CancellationToken.None).AsTask();
        Assert.Equal((null, ResolveFailure.Busy), await caching.ResolveAsync("c.test", CancellationToken.None));
        Assert.Equal(2, caching.LookupsInFlight);

        time.Advance(TimeSpan.FromSeconds(5)); // the deadline: both time out, and their lookups are cancelled, not abandoned
        Assert.Equal((null, ResolveFailure.Timeout), await a.WaitAsync(TestTimeout.Default));
        Assert.Equal((null, ResolveFailure.Timeout), await b.WaitAsync(TestTimeout.Default));
        await Eventually.TrueAsync(() => caching.LookupsInFlight == 0);
        Assert.Equal(2, resolver.Lookups); // c.test never reached the resolver
    }
}
