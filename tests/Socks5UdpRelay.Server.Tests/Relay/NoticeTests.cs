using Socks5UdpRelay.Server.Metrics;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>Notices on the control connection: errors, refusals, unresolved names, rate limits, and a client that never reads.</summary>
public sealed class NoticeTests
{
    public static TheoryData<string> Families => Loopbacks.Families;

    [Theory]
    [MemberData(nameof(Families))]
    public async Task ClosedPort_SendsPortUnreachableNotice_ThenOpenedPortGetsNextDatagram(string loopback)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(ip, 0).ToString());
        var closed = FreePorts.ClosedUdpEndPoint(ip);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(closed, "probe"u8.ToArray());

        var line = await association.Control.ReadLineAsync();
        Assert.True(Notice.TryParse(line!, out var notice), line);
        Assert.Equal(NoticeVerbs.UdpError, notice!.Verb);
        Assert.Equal(NoticeFormat.FormatEndpoint(ip, closed.Port), notice.Destination);
        Assert.Equal(UdpErrorKind.PortUnreachable, notice.ErrorKind);
        Assert.Equal("ECONNREFUSED", notice.Errno);

        // The port opens: the kernel's stale error must not swallow the next datagram.
        using var opened = new Socket(ip.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        opened.Bind(closed);
        await association.SendToAsync(closed, "after"u8.ToArray());
        byte[] buffer = new byte[64];
        int n = await opened.ReceiveAsync(buffer, SocketFlags.None, TestTimeout.Token);
        Assert.Equal("after"u8.ToArray(), buffer[..n]);
    }

    [Fact]
    public async Task ErrorForNamedDestination_NamesDstAndAddr()
    {
        await using var server = await RelayServer.StartAsync();
        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendAsync(RawSocks.Datagram("localhost", closed.Port, "x"u8));
        var line = await association.Control.ReadLineAsync();
        Assert.Equal($"UDP-ERROR dst=localhost:{closed.Port} addr=127.0.0.1:{closed.Port} error=port-unreachable errno=ECONNREFUSED", StripQueueFields(line));
    }

    [Fact]
    public async Task ErrorsPerDestinationAndKind_AreRateLimited_SuppressedCountedInNextNotice()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(
            new Dictionary<string, string?> { ["Relay:NoticeBurst"] = "1", ["Relay:NoticesPerSecond"] = "1" }, time: time);
        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        var counters = server.SingleAssociation().Counters;

        for (int i = 1; i <= 4; i++)
        {
            await association.SendToAsync(closed, "x"u8.ToArray());
            await Eventually.TrueAsync(() => Interlocked.Read(ref counters.Errors) >= i); // one ICMP at a time, so none collapse
        }

        time.Advance(TimeSpan.FromSeconds(1));
        await association.SendToAsync(closed, "x"u8.ToArray());

        Assert.DoesNotContain("suppressed", await association.Control.ReadLineAsync());
        Assert.Contains(" suppressed=3", await association.Control.ReadLineAsync());
    }

    [Fact]
    public async Task NoticesOff_WritesNothingAtAll()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Notices"] = "off" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint, readNoticesLine: false);
        await association.SendToAsync(closed, "x"u8.ToArray());
        await Eventually.TrueAsync(() => Interlocked.Read(ref server.SingleAssociation().Counters.Errors) == 1);
        await association.SendToAsync(echo.EndPoint, "still relaying"u8.ToArray());
        Assert.Equal("still relaying"u8.ToArray(), (await association.ReceiveAsync()).Payload);

        // Half-close: the server ends the association; every byte it wrote arrives before its EOF.
        association.Control.Control.Shutdown(SocketShutdown.Send);
        var rest = await association.Control.ReadAsync(4096);
        Assert.Empty(rest);
    }

    public static TheoryData<string, byte[], string> Refusals => new()
    {
        { "fragmented", [0x00, 0x00, 0x01, 0x01, 127, 0, 0, 1, 0x00, 0x35, 0xAA], "UDP-DENIED dst=127.0.0.1:53 reason=fragmented" },
        { "too large", [0x00, 0x00, 0x00, 0x03, 0x03, (byte)'a', (byte)'b', (byte)'c', 0x00, 0x35, .. new byte[101]], "UDP-DENIED dst=abc:53 reason=too-large" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task RefusedDatagram_IsDroppedAndNoticed_AssociationLivesOn(string what, byte[] datagram, string expected)
    {
        Assert.NotEmpty(what);
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:MaxDatagramSize"] = "100" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendAsync(datagram);
        Assert.Equal(expected, await association.Control.ReadLineAsync());
        await association.SendToAsync(echo.EndPoint, new byte[100]);
        Assert.Equal(100, (await association.ReceiveAsync()).Payload.Length);
        Assert.DoesNotContain(echo.Senders, s => s.Port == 53);
    }

    [Fact]
    public async Task LoopbackDestinationDenied_GivesPolicyNotice()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Policy:LoopbackDestinations"] = "deny" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "x"u8.ToArray());
        Assert.Equal($"UDP-DENIED dst=127.0.0.1:{echo.Port} reason=policy", await association.Control.ReadLineAsync());
        Assert.Empty(echo.Senders);
        Assert.Equal(1, server.SingleAssociation().Counters.Dropped(DropReason.Policy));
    }

    [Fact]
    public async Task MalformedHeaders_AreDroppedAndCounted_AssociationLivesOn()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendAsync([0x00, 0x00]);                                   // shorter than RSV RSV FRAG
        await association.SendAsync([0x00, 0x00, 0x00, 0x07, 1, 2, 3, 4, 0, 53]);  // unknown ATYP
        await association.SendAsync([0x00, 0x00, 0x00, 0x03, 0x00, 0, 53]);         // zero-length name
        await association.SendAsync([0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]);         // IPv6 address cut short
        await association.SendToAsync(echo.EndPoint, "alive"u8.ToArray());
        Assert.Equal("alive"u8.ToArray(), (await association.ReceiveAsync()).Payload);
        Assert.Equal(4, server.SingleAssociation().Counters.Dropped(DropReason.Malformed));
    }

    [Fact]
    public async Task UnknownName_GivesUnresolvedNotice()
    {
        var resolver = new FakeResolver().Fail("nosuch.test", SocketError.HostNotFound).Fail("nodata.test", SocketError.NoData);
        await using var server = await RelayServer.StartAsync(resolver: resolver);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendAsync(RawSocks.Datagram("nosuch.test", 53, "q"u8));
        Assert.Equal("UDP-UNRESOLVED dst=nosuch.test:53 reason=no-such-name", await association.Control.ReadLineAsync());
        await association.SendAsync(RawSocks.Datagram("nodata.test", 53, "q"u8));
        Assert.Equal("UDP-UNRESOLVED dst=nodata.test:53 reason=no-address", await association.Control.ReadLineAsync());
    }

    [Fact]
    public async Task NameThatIsNoHostName_IsRefusedWithoutLookup_AndEscapedInNotice()
    {
        var resolver = new FakeResolver();
        await using var server = await RelayServer.StartAsync(resolver: resolver);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendAsync(RawSocks.Datagram("bad name=%", 53, "q"u8));
        Assert.Equal("UDP-UNRESOLVED dst=bad%20name%3D%25:53 reason=no-such-name", await association.Control.ReadLineAsync());
        Assert.Equal(0, resolver.Lookups);
    }

    [Fact]
    public async Task SlowName_TimesOut_WithoutStallingOtherDestinations()
    {
        var time = new ManualTimeProvider();
        var resolver = new FakeResolver().Hang("slow.test");
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:ResolveTimeout"] = "00:00:05" }, resolver, time);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendAsync(RawSocks.Datagram("slow.test", 53, "q"u8));
        await Eventually.TrueAsync(() => resolver.Lookups == 1);
        await association.SendToAsync(echo.EndPoint, "meanwhile"u8.ToArray());
        Assert.Equal("meanwhile"u8.ToArray(), (await association.ReceiveAsync()).Payload);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("UDP-UNRESOLVED dst=slow.test:53 reason=timeout", await association.Control.ReadLineAsync());
    }

    [Fact]
    public async Task ClientThatNeverReads_RelayKeepsGoing_NoticesDroppedAndCounted()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:NoticeBurst"] = "1000000",
            ["Relay:NoticesPerSecond"] = "1000000",
            ["Relay:NoticeQueueLength"] = "8",
        });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        var control = await RawSocks.ConnectAsync(server.EndPoint);
        control.Control.ReceiveBufferSize = 4096; // and then never read it
        await using var association = await OpenWithControlAsync(control);
        var state = server.SingleAssociation();

        // Each round: one error for the closed port (a notice line), one echo that must come back.
        const int Rounds = 20_000;
        for (int i = 0; i < Rounds && state.Counters.TotalDropped == 0; i++)
        {
            await association.SendToAsync(closed, "x"u8.ToArray());
            await association.SendToAsync(echo.EndPoint, BitConverter.GetBytes(i));
            Assert.Equal(BitConverter.GetBytes(i), (await association.ReceiveAsync()).Payload);
            if (NoticesDropped(server) > 0)
            {
                break;
            }
        }

        var c = state.Counters;
        Assert.True(NoticesDropped(server) > 0, $"the notice queue never overflowed (errors {c.Errors}, dropped: send-failed {c.Dropped(DropReason.SendFailed)}, reply-too-large {c.Dropped(DropReason.ReplyTooLarge)}, rate {c.Dropped(DropReason.RateLimit)}, policy {c.Dropped(DropReason.Policy)})");
        Assert.Equal(0, state.Counters.TotalDropped);
    }

    private static long NoticesDropped(RelayServer server)
        => server.SingleAssociation().NoticesDropped;

    private static async Task<RawAssociation> OpenWithControlAsync(RawSocks control)
    {
        var relay = await control.AssociateAsync();
        var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return RawAssociationAccess.Create(control, udp, relay);
    }

    /// <summary>Drops keys a later issue may add (icmp=, from=) so the line can be compared with the README's core keys.</summary>
    private static string? StripQueueFields(string? line)
        => line is null ? null : string.Join(' ', line.Split(' ').Where(f => !f.StartsWith("icmp", StringComparison.Ordinal) && !f.StartsWith("from=", StringComparison.Ordinal) && !f.StartsWith("rttl=", StringComparison.Ordinal)));
}
