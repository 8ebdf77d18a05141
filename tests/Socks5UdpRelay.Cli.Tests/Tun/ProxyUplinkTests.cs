using System.Net;
using System.Text;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Cli.Tun;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Gateway.Plane;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// The SOCKS side of <c>s5nc tun</c> against the real server in process on loopback, with the
/// device replaced by a recording downlink: mappings per program socket, the program's order and
/// TTLs, the pool, the cap, the idle timeouts, and proxies without MAP or without notices. The
/// theories run over UDP and over TCP (<c>--udp-over-tcp</c>); over TCP against a server whose
/// advertised relay address (127.0.0.2) no datagram reaches, so what comes back rode the connection.
/// </summary>
public sealed class ProxyUplinkTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];
    private RelayServer _server = null!;
    private RelayServer _unreachableRelay = null!;

    public async Task InitializeAsync()
    {
        _server = await RelayServer.StartAsync();
        // It listens on 127.0.0.1 and names 127.0.0.2 in its replies: a datagram sent there finds no relay socket.
        _unreachableRelay = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:AdvertisedAddress:0"] = "127.0.0.2" });
    }

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        await _server.DisposeAsync();
        await _unreachableRelay.DisposeAsync();
    }

    [Theory]
    [InlineData(Socks5UdpTransport.Udp)]
    [InlineData(Socks5UdpTransport.Tcp)]
    public async Task EachProgramSocket_HasAnExternalPortOfItsOwn_SameForEveryDestination(Socks5UdpTransport transport)
    {
        using var a = LoopbackTarget.Start();
        using var b = LoopbackTarget.Start();
        var (uplink, downlink, _) = await StartAsync(Over(transport));

        var ports = new List<int>();
        for (int flow = 1; flow <= 3; flow++)
        {
            uplink.Send(new FlowId(flow), Key(a.EndPoint), Encoding.ASCII.GetBytes($"to a from {flow}"), 0);
            uplink.Send(new FlowId(flow), Key(b.EndPoint), Encoding.ASCII.GetBytes($"to b from {flow}"), 0);
            var atA = a.Next();
            var atB = b.Next();
            Assert.Equal($"to a from {flow}", atA.Payload);
            Assert.Equal(atA.Source.Port, atB.Source.Port); // endpoint-independent: one port for every destination
            ports.Add(atA.Source.Port);
        }

        Assert.Equal(3, ports.Distinct().Count()); // no port overloading
        var replies = new List<(FlowId Flow, IPEndPoint Source, byte[] Payload)>();
        for (int i = 0; i < 6; i++)
        {
            replies.Add(await downlink.NextReplyAsync());
        }

        foreach (var (flow, source, payload) in replies)
        {
            string text = Encoding.ASCII.GetString(payload);
            Assert.EndsWith($"from {flow.Value}", text, StringComparison.Ordinal);
            Assert.Equal(text.StartsWith("to a", StringComparison.Ordinal) ? a.EndPoint : b.EndPoint, source);
        }

        Assert.Equal(1, uplink.AssociationCount);
        Assert.True(uplink.UsesMap);
    }

    [Theory]
    [InlineData(Socks5UdpTransport.Udp)]
    [InlineData(Socks5UdpTransport.Tcp)]
    public async Task ChosenTtls_LeaveWithTheirDatagrams_InTheProgramsOrder(Socks5UdpTransport transport)
    {
        using var target = LoopbackTarget.Start(echo: false);
        var (uplink, _, _) = await StartAsync(Over(transport));
        byte[] ttls = [0, 3, 3, 0, 7, 0];

        for (int i = 0; i < ttls.Length; i++)
        {
            uplink.Send(new FlowId(1), Key(target.EndPoint), Encoding.ASCII.GetBytes($"d{i}"), ttls[i]);
        }

        for (int i = 0; i < ttls.Length; i++)
        {
            var (_, payload, ttl) = target.Next();
            Assert.Equal($"d{i}", payload);
            Assert.Equal(ttls[i] == 0 ? 64 : ttls[i], ttl);
        }

        // SET only where the TTL changes: 3, (3 again: none), default, 7, default.
        Assert.Equal(4, uplink.Counters.Sets);
    }

    [Fact]
    public async Task AThousandNewSockets_ShareAFewAssociations_AndAllAreAnswered()
    {
        using var target = LoopbackTarget.Start();
        var (uplink, downlink, _) = await StartAsync();

        for (int flow = 1; flow <= 1000; flow++)
        {
            uplink.Send(new FlowId(flow), Key(target.EndPoint), "query"u8, 0);
        }

        var answered = new HashSet<long>();
        while (answered.Count < 1000)
        {
            answered.Add((await downlink.NextReplyAsync()).Flow.Value);
        }

        // 63 mappings per association (the server's default 64 less mapping 0): 16 for 1000 sockets, one more
        // being filled, one opened ahead.
        Assert.InRange(uplink.Counters.AssociationsOpened, 16, 19);
        Assert.Equal(1000, target.Received.Select(r => r.Source.Port).Distinct().Count());
    }

    [Fact]
    public async Task AProxyThatGrantsFewerMappings_SaysSoWithLimit_AndMoreAssociationsCarryTheRest()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:MaxMappingsPerAssociation"] = "4" });
        using var target = LoopbackTarget.Start();
        var (uplink, downlink, _) = await StartAsync(new UplinkSettings { ReadyMappings = 2 }, server: server);

        for (int flow = 1; flow <= 10; flow++)
        {
            uplink.Send(new FlowId(flow), Key(target.EndPoint), "hello"u8, 0);
        }

        var answered = new HashSet<long>();
        while (answered.Count < 10)
        {
            answered.Add((await downlink.NextReplyAsync()).Flow.Value);
        }

        // 3 MAPs per association (4 with mapping 0): 10 sockets and 2 ready need at least 4 associations, and one is opened ahead.
        Assert.InRange(uplink.Counters.AssociationsOpened, 4, 7);
        Assert.Equal(10, target.Received.Take(10).Select(r => r.Source.Port).Distinct().Count());
    }

    [Theory]
    [InlineData(Socks5UdpTransport.Udp)]
    [InlineData(Socks5UdpTransport.Tcp)]
    public async Task NoticeAboutAFlowsDatagram_GoesToThatFlow(Socks5UdpTransport transport)
    {
        var closed = LoopbackTarget.Start();
        var port = closed.EndPoint;
        closed.Dispose(); // nothing listens there any more: the relay's kernel answers port unreachable
        var (uplink, downlink, _) = await StartAsync(Over(transport));

        uplink.Send(new FlowId(4), Key(port), "anyone?"u8, 0); // two sockets, two mappings on one association: each notice names its own
        uplink.Send(new FlowId(5), Key(port), "anyone?"u8, 0);

        await TestTimeout.UntilAsync(() => downlink.Notices.Count == 2);
        Assert.Equal([4, 5], downlink.Notices.Select(n => n.Flow.Value).Order());
        foreach (var (flow, notice) in downlink.Notices)
        {
            Assert.Equal(NoticeVerbs.UdpError, notice.Verb);
            Assert.Equal(UdpErrorKind.PortUnreachable, notice.ErrorKind);
            Assert.Equal(uplink.MappingOf(flow)!.Number, notice.Mapping);
        }

        Assert.Equal(2, uplink.Counters.Errors);
    }

    [Fact]
    public async Task AFinishedExchange_ReleasesItsMappingSooner_ThanAnOpenOne()
    {
        using var target = LoopbackTarget.Start();
        var clock = new ManualTimeProvider();
        var (uplink, downlink, _) = await StartAsync(new UplinkSettings { FinishedIdle = TimeSpan.FromSeconds(10), Idle = TimeSpan.FromMinutes(2) }, clock);

        uplink.Send(new FlowId(1), Key(target.EndPoint), "probe"u8, 5); // a TTL its program chose, answered: finished
        uplink.Send(new FlowId(2), Key(target.EndPoint), "chat"u8, 0); // an ordinary socket to a high port, answered
        await downlink.NextReplyAsync();
        await downlink.NextReplyAsync();

        clock.Advance(TimeSpan.FromSeconds(11));
        uplink.Sweep();
        Assert.Equal(1, uplink.Counters.FlowsClosed);
        Assert.Equal(1, uplink.FlowCount);

        clock.Advance(TimeSpan.FromMinutes(2));
        uplink.Sweep();
        Assert.Equal(2, uplink.Counters.FlowsClosed);
        Assert.Equal(2, uplink.Counters.MappingsReleased);
    }

    [Fact]
    public async Task AtTheCap_NewSocketsAreDroppedWithOneLogLine_UntilOneIsReleased()
    {
        using var target = LoopbackTarget.Start();
        var (uplink, downlink, log) = await StartAsync(new UplinkSettings { MaxFlows = 2 });
        uplink.Send(new FlowId(1), Key(target.EndPoint), "one"u8, 0);
        uplink.Send(new FlowId(2), Key(target.EndPoint), "two"u8, 0);
        await downlink.NextReplyAsync();
        await downlink.NextReplyAsync();

        for (int i = 0; i < 5; i++)
        {
            uplink.Send(new FlowId(3), Key(target.EndPoint), "three"u8, 0);
        }

        Assert.Equal(5, uplink.Counters.FlowsRefused);
        Assert.Equal(1, log.Count("program sockets hold mappings (--max-flows)"));

        uplink.FlowClosed(new FlowId(1));
        uplink.Sweep();
        Assert.Equal(1, log.Count("below --max-flows again: 5 datagrams"));
        uplink.Send(new FlowId(3), Key(target.EndPoint), "three"u8, 0);
        Assert.Equal(new FlowId(3), (await downlink.NextReplyAsync()).Flow);
    }

    [Fact]
    public async Task AtTheCap_AFinishedExchangeGivesItsMappingUp_ForANewSocket_AtOnce()
    {
        using var target = LoopbackTarget.Start();
        var (uplink, downlink, log) = await StartAsync(new UplinkSettings { MaxFlows = 2 });
        uplink.Send(new FlowId(1), Key(target.EndPoint), "probe 1"u8, 5); // TTLs the program chose, answered: finished
        await downlink.NextReplyAsync();
        uplink.Send(new FlowId(2), Key(target.EndPoint), "probe 2"u8, 6);
        await downlink.NextReplyAsync();

        uplink.Send(new FlowId(3), Key(target.EndPoint), "a new socket"u8, 0);

        Assert.Equal(new FlowId(3), (await downlink.NextReplyAsync()).Flow);
        Assert.Equal(0, uplink.Counters.FlowsRefused);
        Assert.Equal(1, uplink.Counters.FlowsClosed);
        Assert.Null(uplink.MappingOf(new FlowId(1))); // the one idle the longest
        Assert.NotNull(uplink.MappingOf(new FlowId(2)));
        Assert.Equal(0, log.Count("program sockets hold mappings (--max-flows)"));
    }

    [Fact]
    public async Task WithoutMap_EachSocketGetsAnAssociationOfItsOwn_AndSaysSo()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Commands"] = "off" });
        using var target = LoopbackTarget.Start();
        var (uplink, downlink, log) = await StartAsync(server: server);

        for (int flow = 1; flow <= 3; flow++)
        {
            uplink.Send(new FlowId(flow), Key(target.EndPoint), "hello"u8, 0);
        }

        var flows = new HashSet<long>();
        for (int i = 0; i < 3; i++)
        {
            flows.Add((await downlink.NextReplyAsync()).Flow.Value);
        }

        Assert.Equal(3, flows.Count);
        Assert.False(uplink.UsesMap);
        Assert.True(uplink.HasNotices);
        Assert.Equal(1, log.Count("the proxy does not offer MAP"));
        // One per socket, one kept ready, and one more where a ready one was taken while the next was on its way.
        Assert.InRange(uplink.Counters.AssociationsOpened, 3, 5);
        Assert.Equal(3, target.Received.Take(3).Select(r => r.Source.Port).Distinct().Count());
    }

    [Theory]
    [InlineData(Socks5UdpTransport.Udp)]
    [InlineData(Socks5UdpTransport.Tcp)] // the reply does not take up the opt-in: datagram frames only, as for hev-socks5-tunnel
    public async Task WithoutNotices_DatagramsStillGo_AndItSaysOnceThatErrorsCannotBeReported(Socks5UdpTransport transport)
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Notices"] = "off" });
        using var target = LoopbackTarget.Start();
        var (uplink, downlink, log) = await StartAsync(new UplinkSettings { Transport = transport }, server: server);

        uplink.Send(new FlowId(1), Key(target.EndPoint), "still relayed"u8, 5);

        Assert.Equal("still relayed", Encoding.ASCII.GetString((await downlink.NextReplyAsync()).Payload));
        Assert.Equal(64, target.Next().Ttl); // no SET: the proxy's default TTL
        Assert.False(uplink.HasNotices);
        Assert.Equal(1, log.Count("ICMP errors (refused ports, unreachables, traceroute hops, path MTU) cannot be reported"));
    }

    [Fact]
    public async Task AMappingTheProxyClosedIdle_IsReplacedWithTheNextDatagram()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:DestinationIdleTimeout"] = "00:00:01" });
        using var target = LoopbackTarget.Start();
        var (uplink, downlink, _) = await StartAsync(server: server);
        uplink.Send(new FlowId(1), Key(target.EndPoint), "first"u8, 0);
        await downlink.NextReplyAsync();
        int firstPort = target.Next().Source.Port;

        await TestTimeout.UntilAsync(() => uplink.MappingOf(new FlowId(1)) is null); // MAP-CLOSED reason=idle
        uplink.Send(new FlowId(1), Key(target.EndPoint), "again"u8, 0);

        Assert.Equal("again", Encoding.ASCII.GetString((await downlink.NextReplyAsync()).Payload));
        Assert.NotEqual(firstPort, target.Next().Source.Port);
    }

    [Fact]
    public async Task TheProxyRestarting_EndsTheAssociations_AndTheSocketsGetNewMappingsFromTheNewOne()
    {
        var first = await RelayServer.StartAsync();
        int port = first.EndPoint.Port;
        using var target = LoopbackTarget.Start();
        var (uplink, downlink, log) = await StartAsync(server: first);
        uplink.Send(new FlowId(1), Key(target.EndPoint), "before"u8, 0);
        await downlink.NextReplyAsync();

        await first.DisposeAsync(); // CLOSING reason=shutdown, then the control connections end
        await TestTimeout.UntilAsync(() => log.Count("program sockets move to new mappings") > 0);
        await using var second = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Listen:0"] = $"127.0.0.1:{port}" });
        // As a program would, send until answered: the pool reconnects within a second or two, and a
        // datagram sent on an association the old server was still ending is lost, as on any path.
        (FlowId Flow, IPEndPoint Source, byte[] Payload)? reply = null;
        for (int attempt = 0; attempt < 10 && reply is null; attempt++)
        {
            uplink.Send(new FlowId(1), Key(target.EndPoint), "after"u8, 0);
            reply = await downlink.NextReplyAsync(TimeSpan.FromSeconds(1));
        }

        Assert.True(reply is not null, $"no reply after the restart; {uplink.Counters}; the log:\n{string.Join('\n', log.Lines.Select(l => l.Text))}");
        Assert.Equal("after", Encoding.ASCII.GetString(reply.Value.Payload));
        Assert.True(uplink.Counters.MappingsLost > 0);
    }

    [Fact]
    public async Task SteadyDatagrams_AllocateNothing_OnTheSendingOrTheReceivingThread()
    {
        using var target = LoopbackTarget.Start();
        var (uplink, downlink, _) = await StartAsync();
        downlink.CountOnly = true;
        long[] allocatedAtReply = new long[20_001];
        downlink.OnReplyThread = n =>
        {
            if (n < allocatedAtReply.Length)
            {
                allocatedAtReply[n] = GC.GetAllocatedBytesForCurrentThread();
            }
        };
        var destination = Key(target.EndPoint);
        byte[] payload = new byte[100];
        uplink.Send(new FlowId(1), destination, payload, 0);
        await TestTimeout.UntilAsync(() => downlink.ReplyCount == 1);

        long sendingAllocated = 0;
        for (int batch = 0; batch < 200; batch++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                uplink.Send(new FlowId(1), destination, payload, 0);
            }

            // The first 50 batches warm up (JIT tiers, the first contention of each lock).
            sendingAllocated += batch < 50 ? 0 : GC.GetAllocatedBytesForCurrentThread() - before;
            long expected = 1 + ((batch + 1) * 100);
            await TestTimeout.UntilAsync(() => downlink.ReplyCount >= expected - 10); // paced, so the loopback buffers never overflow
        }

        // An object per datagram would cost at least 24 bytes each: 240 000 for 10 000. A one-time cost
        // (a static initialised when the JIT replaces the receive loop's code while it runs) is
        // allowed; anything that grows with the count is not.
        Assert.True(sendingAllocated < OneTimeAllowance, $"the sending thread allocated {sendingAllocated} bytes for 15 000 datagrams");
        long last = Math.Min(downlink.ReplyCount, allocatedAtReply.Length - 1);
        Assert.True(last > 15_000, $"only {last} replies came back");
        long receiving = allocatedAtReply[last] - allocatedAtReply[5_000];
        Assert.True(receiving < OneTimeAllowance, $"the receiving thread allocated {receiving} bytes for {last - 5_000} replies");
    }

    [Fact]
    public async Task OverTcp_AProxyWithoutIt_IsNamed()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:UdpOverTcp"] = "off" });
        var uplink = new ProxyUplink(new RecordingDownlink(), new Socks5ProxyOptions { Host = "127.0.0.1", Port = server.EndPoint.Port },
            new UplinkSettings { Transport = Socks5UdpTransport.Tcp }, new LogLines(), TimeProvider.System);
        _owned.Add(uplink);

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => uplink.StartAsync(TestTimeout.Token));

        Assert.Equal(ReplyCode.CommandNotSupported, e.Reply);
        Assert.Equal("UDP over TCP is not offered by this proxy (it answered CMD 0x05 with REP 7, command not supported).", e.Message);
    }

    [Fact]
    public async Task OverTcp_AProxyThatReadsNothing_EndsTheAssociation_AndTheSenderGoesOn()
    {
        await using var proxy = new ScriptedProxy(rejectPassword: false, stall: true);
        var settings = new UplinkSettings { Transport = Socks5UdpTransport.Tcp, GreetingWait = TimeSpan.FromMilliseconds(100), SendStall = TimeSpan.FromMilliseconds(200) };
        var (uplink, _, log) = await StartAsync(settings, proxy: proxy.EndPoint);
        var destination = FlowKey.From(IPAddress.Loopback.GetAddressBytes(), 9);
        byte[] payload = new byte[60_000];

        // The kernel's buffers on both sides take some megabytes; then a frame waits, and the association is given up.
        for (int i = 0; i < 2_000 && uplink.Counters.SendFailed == 0; i++)
        {
            uplink.Send(new FlowId(1), destination, payload, 0);
        }

        Assert.Equal(1, uplink.Counters.SendFailed);
        await TestTimeout.UntilAsync(() => log.Count("ended (the proxy read no frame for 0.2 s); 1 program sockets move to new mappings") == 1);
        Assert.True(uplink.Counters.Sent > 10, $"{uplink.Counters.Sent} frames were written before the stall");
    }

    /// <summary>Bytes of one-time allocations a thread may make during a measurement: a few small objects, never one per datagram.</summary>
    private const long OneTimeAllowance = 256;

    private static FlowKey Key(IPEndPoint endpoint) => FlowKey.From(endpoint.Address.GetAddressBytes(), (ushort)endpoint.Port);


    /// <summary>Settings for <paramref name="transport"/>; over TCP against the server whose relay no datagram reaches.</summary>
    private static UplinkSettings Over(Socks5UdpTransport transport) => new() { Transport = transport };

    private async Task<(ProxyUplink Uplink, RecordingDownlink Downlink, LogLines Log)> StartAsync(
        UplinkSettings? settings = null, TimeProvider? time = null, RelayServer? server = null, IPEndPoint? proxy = null)
    {
        var downlink = new RecordingDownlink();
        var log = new LogLines();
        settings ??= new UplinkSettings();
        server ??= settings.Transport == Socks5UdpTransport.Tcp ? _unreachableRelay : _server;
        var options = new Socks5ProxyOptions { Host = "127.0.0.1", Port = (proxy ?? server.EndPoint).Port };
        var uplink = new ProxyUplink(downlink, options, settings, log, time ?? TimeProvider.System);
        _owned.Add(uplink);
        await uplink.StartAsync(TestTimeout.Token);
        return (uplink, downlink, log);
    }
}
