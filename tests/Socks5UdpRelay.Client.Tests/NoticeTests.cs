using System.Net;
using Socks5UdpRelay.Client.Tests.Fakes;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

public sealed class NoticeTests
{
    [Fact]
    public async Task NoticesLine_First_MakesNoticesSupportedTrue_AndNoticesParse()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback)
        {
            NoticeLines =
            [
                "NOTICES version=1",
                "UDP-ERROR dst=127.0.0.1:9 error=port-unreachable errno=ECONNREFUSED icmp=3/3 from=127.0.0.1",
            ],
        };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();

        Assert.True(await association.NoticesSupported.Within());
        var first = await association.Notices.ReadAsync(TestTimeout.Token).Within();
        var error = await association.Notices.ReadAsync(TestTimeout.Token).Within();

        Assert.Equal(NoticeVerbs.Notices, first.Verb);
        Assert.Equal(1, first.Version);
        Assert.Equal(NoticeVerbs.UdpError, error.Verb);
        Assert.Equal("127.0.0.1:9", error.Destination);
        Assert.Equal(UdpErrorKind.PortUnreachable, error.ErrorKind);
        Assert.Equal(((byte)3, (byte)3), error.Icmp);
        Assert.Equal(IPAddress.Loopback, error.From);
    }

    [Fact]
    public async Task OtherFirstLine_MakesNoticesSupportedFalse_ButIsStillDelivered()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { NoticeLines = ["HELLO there=1"] };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();

        Assert.False(await association.NoticesSupported.Within());
        Assert.Equal("HELLO", (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);
    }

    [Fact]
    public async Task ServerClosesWithoutAnyLine_NoticesSupportedFalse_ClosedServerClosed()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();

        session.Close();

        Assert.Equal(Socks5AssociationEnd.ServerClosed, await association.Closed.Within());
        Assert.False(await association.NoticesSupported.Within());
        await association.Notices.Completion.Within();
    }

    [Fact]
    public async Task ServerResets_ClosedConnectionReset()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { NoticeLines = ["NOTICES version=1"] };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        Assert.True(await association.NoticesSupported.Within());

        session.Reset();

        Assert.Equal(Socks5AssociationEnd.ConnectionReset, await association.Closed.Within());
    }

    [Fact]
    public async Task Dispose_ClosedDisposed_NoticesComplete_ServerSeesEof()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();

        await association.DisposeAsync().Within();

        Assert.Equal(Socks5AssociationEnd.Disposed, await association.Closed.Within());
        await association.Notices.Completion.Within();
        Assert.Equal(0, await session.Control.ReceiveAsync(new byte[1]).Within());
    }

    [Fact]
    public async Task OverLongLine_IsSkipped_LaterLinesStillArrive()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { NoticeLines = ["NOTICES version=1"] };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();

        await session.WriteAsync("UDP-ERROR dst=" + new string('a', 3000) + ":53 error=unknown\n");
        await session.WriteAsync("UDP-DENIED dst=10.0.0.1:53 reason=policy\n");

        Assert.Equal(NoticeVerbs.Notices, (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);
        var denied = await association.Notices.ReadAsync(TestTimeout.Token).Within();
        Assert.Equal(NoticeVerbs.UdpDenied, denied.Verb);
        Assert.Equal(DeniedReasons.Policy, denied.Reason);
    }

    [Fact]
    public async Task OverLongFirstLine_MakesNoticesSupportedFalse()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { NoticeLines = ["NOTICES version=1" + new string('x', 1100)] };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();

        Assert.False(await association.NoticesSupported.Within());
    }

    [Fact]
    public async Task ReaderThatNeverReads_DropsOldestNotices_AndCountsThem()
    {
        const int Sent = 300;
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { NoticeLines = ["NOTICES version=1"] };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();

        await session.WriteAsync(string.Concat(Enumerable.Range(1, Sent).Select(i => $"UDP-DENIED dst=10.0.0.1:{i} reason=rate-limit\n")));
        session.Close();
        await association.Closed.Within();

        var kept = new List<Notice>();
        await foreach (var notice in association.Notices.ReadAllAsync(TestTimeout.Token))
        {
            kept.Add(notice);
        }

        Assert.Equal(Socks5UdpAssociation.NoticeCapacity, kept.Count);
        Assert.Equal(Sent + 1 - Socks5UdpAssociation.NoticeCapacity, association.DroppedNotices);
        Assert.Equal($"10.0.0.1:{Sent}", kept[^1].Destination);
    }
}
