using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Tests.Fakes;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>An association's destinations on the fake engine: one outbound port, the cap, idleness, failures.</summary>
public sealed class DestinationTableTests : IDisposable
{
    private static readonly IPEndPoint Peer = new(IPAddress.Parse("192.0.2.10"), 40000);
    private readonly FakeLoop _loop = new();
    private readonly ManualTimeProvider _time = new();
    private readonly AssociationCounters _counters = new();
    private readonly Queue<int> _freePorts = new([50000, 50001, 50002]);
    private readonly OutboundPortRegistry _ports;

    public DestinationTableTests()
    {
        _ports = new OutboundPortRegistry(_time, () => _freePorts.TryDequeue(out int p) ? p : 0);
    }

    [Fact]
    public void EveryDestination_SharesTheOneOutboundPort()
    {
        var table = Table(capacity: 8);
        var a = table.Open(Key("198.51.100.1", 53), out _);
        var b = table.Open(Key("2001:db8::1", 53), out _);
        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.Equal(50000, table.OutboundPort);
        Assert.Equal([50000, 50000], _loop.Opened.Select(s => s.LocalPort));
        Assert.True(table.TryGet(Key("198.51.100.1", 53), out var found));
        Assert.Same(a, found);
        Assert.True(_ports.IsHeld(50000));
    }

    [Fact]
    public void AtCapacity_TheLeastRecentlyUsedIsClosed_NothingIsRefused()
    {
        var table = Table(capacity: 2);
        var a = table.Open(Key("198.51.100.1", 1), out _)!;
        _time.Advance(TimeSpan.FromSeconds(1));
        var b = table.Open(Key("198.51.100.2", 1), out _)!;
        _time.Advance(TimeSpan.FromSeconds(1));
        a.Send(null, "x"u8, _time.GetTimestamp()); // a is now the more recent one

        var c = table.Open(Key("198.51.100.3", 1), out _);
        Assert.NotNull(c);
        Assert.Equal(2, table.Count);
        Assert.True(_loop.Opened[1].Disposed); // b
        Assert.False(table.TryGet(b.Key, out _));
        Assert.True(table.TryGet(a.Key, out _));
    }

    [Fact]
    public void PortTakenMeanwhile_MovesTheAssociationToAnotherPort()
    {
        var table = Table(capacity: 8);
        var key = Key("198.51.100.1", 53);
        _loop.RefuseNextOpen(key, Errno.EADDRINUSE);
        Assert.NotNull(table.Open(key, out _));
        Assert.Equal(50001, table.OutboundPort);
        Assert.False(_ports.IsHeld(50000)); // given back: no socket of ours held it
        Assert.True(_ports.IsHeld(50001));
    }

    [Fact]
    public void KernelRefusal_IsNull_WithTheErrno()
    {
        var table = Table(capacity: 8);
        var key = Key("198.51.100.1", 53);
        _loop.RefuseNextOpen(key, Errno.ENETUNREACH);
        Assert.Null(table.Open(key, out int errno));
        Assert.Equal(Errno.ENETUNREACH, errno);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void NoOutboundPort_IsNull_WithoutAnErrno()
    {
        _freePorts.Clear();
        var table = Table(capacity: 8);
        Assert.Null(table.Open(Key("198.51.100.1", 53), out int errno));
        Assert.Equal(0, errno);
        Assert.Empty(_loop.Opened);
    }

    [Fact]
    public void SweepIdle_ClosesOnlyWhatWasIdleForTheTimeout()
    {
        var table = Table(capacity: 8);
        var old = table.Open(Key("198.51.100.1", 1), out _)!;
        _time.Advance(TimeSpan.FromSeconds(50));
        var fresh = table.Open(Key("198.51.100.2", 1), out _)!;
        _time.Advance(TimeSpan.FromSeconds(10));

        table.SweepIdle(_time.GetTimestamp(), TimeSpan.FromMinutes(1), _time);
        Assert.False(table.TryGet(old.Key, out _));
        Assert.True(table.TryGet(fresh.Key, out _));
        Assert.Equal(_time.GetTimestamp() - TimeSpan.FromSeconds(10).Ticks, table.LastActivity(0));
    }

    [Fact]
    public void CloseAll_ClosesEverySocket_AndGivesThePortBack()
    {
        var table = Table(capacity: 8);
        table.Open(Key("198.51.100.1", 1), out _);
        table.Open(Key("198.51.100.2", 1), out _);
        table.CloseAll();
        Assert.All(_loop.Opened, s => Assert.True(s.Disposed));
        Assert.Equal(0, table.Count);
        Assert.Equal(0, table.OutboundPort);
        Assert.False(_ports.IsHeld(50000));
    }

    public void Dispose() => _loop.Batch.Dispose();

    private DestinationTable Table(int capacity)
    {
        var metrics = new RelayMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var notices = new NoticeService(new NoticeSettings(true, 64, 5, 5), metrics, _time, NullLoggerFactory.Instance).CreateRouter(new RecordingNoticeSink(), _counters, Peer);
        var client = new FakeClientSocket(_loop, new IPEndPoint(IPAddress.Loopback, 1080));
        var replies = new ClientReplies(client, new ClientSourceFilter(Peer.Address, 0), 65_000, System.Net.Sockets.AddressFamily.InterNetwork, _counters, DropReason.SendFailed);
        return new DestinationTable(_loop, _ports, key => new DestinationFlow(key, 0, replies, notices, _counters, _time), capacity, NullLogger.Instance, Peer);
    }

    private static DestinationKey Key(string address, int port) => DestinationKey.From(IPAddress.Parse(address), port);
}
