using System.Net;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Client.Tests.Fakes;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

/// <summary>
/// <see cref="Socks5UdpAssociation.CheckUdpPathAsync"/>: UDP to the relay proven by the notice a
/// Socks5UdpRelay server must write for the probe to 0.0.0.0:9, and nothing concluded without notices.
/// </summary>
public sealed class UdpPathCheckTests
{
    [Fact]
    public async Task CheckUdpPath_OverUdp_ReachesOnTheDenialNotice_WhichTheCallerNeverSees()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo();
        await using var association = await Socks5UdpAssociation.OpenAsync(UdpOverTcpTests.ProxyOf(server), TestTimeout.Token).Within();
        var buffer = new byte[100];

        Assert.Equal(Socks5UdpPath.Reaches, await association.CheckUdpPathAsync(TimeSpan.FromSeconds(5), TestTimeout.Token).Within());

        await association.SendAsync(new IPEndPoint(IPAddress.Loopback, FreePorts.ClosedUdp()), "closed"u8.ToArray(), TestTimeout.Token).Within();
        Assert.Equal(NoticeVerbs.Notices, (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);
        Assert.Equal(NoticeVerbs.UdpError, (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);
        await association.SendAsync(echo.EndPoint, "x"u8.ToArray(), TestTimeout.Token).Within();
        await association.ReceiveAsync(buffer, TestTimeout.Token).Within();
        Assert.False(association.Notices.TryRead(out var notice), $"the probe's notice is the library's: got '{notice?.Line}'");
    }

    [Fact]
    public async Task CheckUdpPath_WithoutNotices_IsUnknown()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Notices"] = "off" });
        await using var association = await Socks5UdpAssociation.OpenAsync(UdpOverTcpTests.ProxyOf(server), TestTimeout.Token).Within();

        Assert.Equal(Socks5UdpPath.Unknown, await association.CheckUdpPathAsync(TimeSpan.FromMilliseconds(300), TestTimeout.Token).Within());
    }

    [Fact]
    public async Task CheckUdpPath_OverTcp_Throws()
    {
        await using var server = await RelayServer.StartAsync();
        await using var association = await Socks5UdpAssociation.OpenAsync(UdpOverTcpTests.ProxyOf(server), Socks5UdpTransport.Tcp, TestTimeout.Token).Within();

        await Assert.ThrowsAsync<InvalidOperationException>(() => association.CheckUdpPathAsync(TimeSpan.FromSeconds(1), TestTimeout.Token)).Within();
    }

    [Fact]
    public async Task CheckUdpPath_GreetingButNoNotice_IsBlocked()
    {
        // The reply advertises 127.0.0.2, where nothing takes UDP: the datagrams are lost as behind a firewall.
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = OfferedCommands.Set, AdvertisedAddress = IPAddress.Parse("127.0.0.2") };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();

        Assert.Equal(Socks5UdpPath.Blocked, await association.CheckUdpPathAsync(TimeSpan.FromMilliseconds(400), TestTimeout.Token).Within());
        Assert.False(association.Closed.IsCompleted);
    }
}
