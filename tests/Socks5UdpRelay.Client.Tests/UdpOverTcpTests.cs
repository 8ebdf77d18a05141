using System.Net;
using System.Text;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

/// <summary>
/// The client library over TCP (the README, "UDP over TCP") against the real server on loopback:
/// datagrams, notices, commands and mappings as control and mapped frames for the client that
/// opts in; datagram frames only, within hev-socks5's 1500 bytes, from a server that does not agree.
/// </summary>
public sealed class UdpOverTcpTests
{
    private const OfferedCommands SetAndMap = OfferedCommands.Set | OfferedCommands.Map;

    public static TheoryData<string, string> Destinations => new()
    {
        { "127.0.0.1", "127.0.0.1" },
        { "::1", "::1" },
        { "localhost", "127.0.0.1" },
        { "[::1]", "::1" },
    };

    [Theory]
    [MemberData(nameof(Destinations))]
    public async Task Echo_RoundTrips_WithTheSourceNamed(string host, string echoAddress)
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Parse(echoAddress));
        await using var association = await OpenAsync(server);
        var buffer = new byte[65_535];

        for (int i = 0; i < 20; i++)
        {
            await association.SendAsync(host, echo.Port, Encoding.ASCII.GetBytes($"hello {i}"), TestTimeout.Token).Within();
            var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

            Assert.Equal($"hello {i}", Encoding.ASCII.GetString(buffer, 0, result.Length));
            Assert.Equal(new Socks5Endpoint(IPAddress.Parse(echoAddress), echo.Port), result.Source);
        }

        Assert.Equal(Socks5UdpTransport.Tcp, association.Transport);
        Assert.Equal(server.EndPoint, association.RelayEndPoint);
        Assert.True(await association.NoticesSupported.Within());
        Assert.Equal(SetAndMap, await association.SupportedCommands.Within());
        Assert.Equal("NOTICES version=1 commands=set,map", (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Line);
        Assert.Equal(0, association.DroppedDatagrams);
    }

    [Fact]
    public async Task IPEndPoint_RoundTrip()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.IPv6Loopback);
        await using var association = await OpenAsync(server);
        var buffer = new byte[100];

        await association.SendAsync(echo.EndPoint, "v6"u8.ToArray(), TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal("v6", Encoding.ASCII.GetString(buffer, 0, result.Length));
        Assert.Equal(echo.EndPoint.Address, result.Source.Address);
    }

    [Fact]
    public async Task ClosedPort_PortUnreachableNoticeArrivesAsAControlFrame()
    {
        await using var server = await RelayServer.StartAsync();
        await using var association = await OpenAsync(server);
        int closed = FreePorts.ClosedUdp();

        await association.SendAsync(new IPEndPoint(IPAddress.Loopback, closed), "anyone?"u8.ToArray(), TestTimeout.Token).Within();

        Assert.Equal(NoticeVerbs.Notices, (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);
        var notice = await association.Notices.ReadAsync(TestTimeout.Token).Within();
        Assert.Equal(NoticeVerbs.UdpError, notice.Verb);
        Assert.Equal($"127.0.0.1:{closed}", notice.Destination);
        Assert.Equal(UdpErrorKind.PortUnreachable, notice.ErrorKind);
        Assert.Equal("ECONNREFUSED", notice.Errno);
    }

    [Fact]
    public async Task SetMapUnmap_TravelAsControlFrames_AndAMappingHasItsOwnPort()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo();
        await using var association = await OpenAsync(server);
        var buffer = new byte[100];

        var set = await association.SetTtlAsync(echo.EndPoint, 5, cancellationToken: TestTimeout.Token).Within();
        Assert.Equal($"SET-OK dst=127.0.0.1:{echo.Port} ttl=5", set.Line);

        await association.SendAsync(echo.EndPoint, "first"u8.ToArray(), TestTimeout.Token).Within();
        Assert.Equal(5, (await association.ReceiveAsync(buffer, TestTimeout.Token).Within()).Length);

        var mapping = await association.MapAsync(TestTimeout.Token).Within();
        Assert.NotEqual(0, mapping.Number);
        var mappingSet = await mapping.SetTtlAsync(echo.EndPoint, 7, TestTimeout.Token).Within();
        Assert.Equal($"SET-OK dst=127.0.0.1:{echo.Port} ttl=7 map={mapping.Number}", mappingSet.Line);

        await mapping.SendAsync(echo.EndPoint, "mapped"u8.ToArray(), TestTimeout.Token).Within();
        var reply = await mapping.ReceiveAsync(buffer, TestTimeout.Token).Within();
        Assert.Equal("mapped", Encoding.ASCII.GetString(buffer, 0, reply.Length));
        Assert.Equal(echo.Port, reply.Source.Port);

        // Each mapping is its own outbound port: the echo saw two senders, one of them MAP-OK's port.
        Assert.Equal(2, echo.Senders.Select(s => s.Port).Distinct().Count());
        Assert.Contains(echo.Senders, s => s.Port == mapping.OutboundPort);

        // The first mapping still gets its own replies, not the other's.
        await association.SendAsync(echo.EndPoint, "again"u8.ToArray(), TestTimeout.Token).Within();
        Assert.Equal("again", Encoding.ASCII.GetString(buffer, 0, (await association.ReceiveAsync(buffer, TestTimeout.Token).Within()).Length));

        await mapping.UnmapAsync(TestTimeout.Token).Within();
        Assert.True(mapping.IsClosed);
        await Assert.ThrowsAsync<Socks5CommandException>(() => association.SetTtlAsync("localhost", echo.Port, 9, mapping, TestTimeout.Token)).Within();
    }

    [Theory]
    [InlineData(1501)]
    [InlineData(9_000)]
    [InlineData(65_000)]
    public async Task LargeDatagrams_RoundTrip_ForTheClientThatOptedIn(int size)
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo();
        await using var association = await OpenAsync(server);
        var payload = Enumerable.Range(0, size).Select(i => (byte)(i * 7)).ToArray();
        var buffer = new byte[65_535];

        await association.SendAsync(echo.EndPoint, payload, TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal(payload, buffer[..result.Length]);
    }

    [Fact]
    public async Task UdpOverTcpOff_IsRefusedWithAClearMessage()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:UdpOverTcp"] = "off" });

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => OpenAsync(server));

        Assert.Equal(Socks5ErrorKind.Refused, e.Kind);
        Assert.Equal(ReplyCode.CommandNotSupported, e.Reply);
        Assert.StartsWith("UDP over TCP is not offered by this proxy", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoticesOff_DatagramsOnly_NoNoticesNoCommands_NothingOver1500Bytes()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Notices"] = "off" });
        await using var echo = UdpResponder.Echo();
        await using var association = await OpenAsync(server);
        var buffer = new byte[65_535];

        // Known at once from the reply, which did not name NOTICES:1 back.
        Assert.True(association.NoticesSupported.IsCompletedSuccessfully);
        Assert.True(association.SupportedCommands.IsCompletedSuccessfully);
        Assert.False(await association.NoticesSupported);
        Assert.Equal(OfferedCommands.None, await association.SupportedCommands);
        await Assert.ThrowsAsync<NotSupportedException>(() => association.SetTtlAsync(echo.EndPoint, 5, cancellationToken: TestTimeout.Token)).Within();

        // hev-socks5 clients end the session on a frame over 1500 bytes: the server drops that reply.
        await association.SendAsync(new IPEndPoint(IPAddress.Loopback, FreePorts.ClosedUdp()), "closed"u8.ToArray(), TestTimeout.Token).Within();
        await association.SendAsync(echo.EndPoint, new byte[1501], TestTimeout.Token).Within();
        await association.SendAsync(echo.EndPoint, new byte[1500], TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal(1500, result.Length);
        await TestTimeout.UntilAsync(() => echo.Received == 2, "the echo got both datagrams");
        Assert.False(association.Notices.TryRead(out var notice), $"no notice over TCP without the opt-in, got '{notice?.Line}'");
        Assert.False(association.Closed.IsCompleted);
    }

    [Fact]
    public async Task Dispose_EndsAPendingReceive_AndClosedSaysDisposed()
    {
        await using var server = await RelayServer.StartAsync();
        var association = await OpenAsync(server);
        var receive = association.ReceiveAsync(new byte[10], TestTimeout.Token).AsTask();

        await association.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => receive).Within();
        Assert.Equal(Socks5AssociationEnd.Disposed, await association.Closed.Within());
    }

    [Fact]
    public async Task ReceiveAsync_IsCancellable_AndTheNextOneStillGetsItsDatagram()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo();
        await using var association = await OpenAsync(server);
        var buffer = new byte[100];
        using var cancel = new CancellationTokenSource();

        var pending = association.ReceiveAsync(buffer, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending).Within();

        await association.SendAsync(echo.EndPoint, "after"u8.ToArray(), TestTimeout.Token).Within();
        Assert.Equal(5, (await association.ReceiveAsync(buffer, TestTimeout.Token).Within()).Length);
    }

    internal static Socks5ProxyOptions ProxyOf(RelayServer server) => new()
    {
        Host = server.EndPoint.Address.ToString(),
        Port = server.EndPoint.Port,
        ConnectTimeout = TestTimeout.Default,
        HandshakeTimeout = TestTimeout.Default,
    };

    private static Task<Socks5UdpAssociation> OpenAsync(RelayServer server)
        => Socks5UdpAssociation.OpenAsync(ProxyOf(server), Socks5UdpTransport.Tcp, TestTimeout.Token).Within();
}
