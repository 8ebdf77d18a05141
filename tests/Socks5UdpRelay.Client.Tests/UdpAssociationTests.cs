using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Client.Tests.Fakes;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

public sealed class UdpAssociationTests
{
    public static TheoryData<string, string> RoundTrips => new()
    {
        { "127.0.0.1", "127.0.0.1" },
        { "::1", "::1" },
        { "::1", "127.0.0.1" },
        { "127.0.0.1", "::1" },
    };

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public async Task IPDestination_RoundTrip_ReportsTheSource(string proxy, string destination)
    {
        await using var server = new FakeSocks5Server(IPAddress.Parse(proxy));
        await using var echo = UdpResponder.Echo(IPAddress.Parse(destination));
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var buffer = new byte[65_535];

        await association.SendAsync(echo.EndPoint, "hello"u8.ToArray(), TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, result.Length));
        Assert.Equal(echo.EndPoint.Address, result.Source.Address);
        Assert.Null(result.Source.Host);
        Assert.Equal(echo.EndPoint.Port, result.Source.Port);
        Assert.Equal(IPAddress.Parse(proxy), association.LocalEndPoint.Address);
        Assert.Equal(0, association.DroppedDatagrams);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")]
    public async Task HostString_RoundTrip(string host)
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        var echoAddress = host == "[::1]" ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        await using var echo = UdpResponder.Echo(echoAddress);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var buffer = new byte[100];

        await association.SendAsync(host, echo.EndPoint.Port, "by name"u8.ToArray(), TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal("by name", Encoding.ASCII.GetString(buffer, 0, result.Length));
        Assert.Equal(new Socks5Endpoint(echoAddress, echo.EndPoint.Port), result.Source);
    }

    [Fact]
    public async Task ManyDatagrams_RoundTrip_InOrder()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var buffer = new byte[100];

        for (int i = 0; i < 50; i++)
        {
            await association.SendAsync(echo.EndPoint, BitConverter.GetBytes(i), TestTimeout.Token).Within();
            var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

            Assert.Equal(i, BitConverter.ToInt32(buffer, 0));
            Assert.Equal(4, result.Length);
        }
    }

    [Fact]
    public async Task DomainSource_IsReportedAsHost()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var buffer = new byte[100];

        await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram("name.example", 53, "answer"u8.ToArray()));
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal("answer", Encoding.ASCII.GetString(buffer, 0, result.Length));
        Assert.Equal("name.example", result.Source.Host);
        Assert.Null(result.Source.Address);
        Assert.Equal(53, result.Source.Port);
        Assert.Equal("name.example:53", result.Source.ToString());
    }

    [Fact]
    public async Task SmallBuffer_TruncatesPayload()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var buffer = new byte[3];

        await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(new IPEndPoint(IPAddress.Loopback, 9), "abcdef"u8.ToArray()));
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal(3, result.Length);
        Assert.Equal("abc", Encoding.ASCII.GetString(buffer));
    }

    [Fact]
    public async Task MalformedOrFragmentedDatagrams_AreDroppedAndCounted()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var source = new IPEndPoint(IPAddress.Loopback, 9);
        var buffer = new byte[100];

        await session.SendFromRelayAsync(association.LocalEndPoint, [0, 0]);
        await session.SendFromRelayAsync(association.LocalEndPoint, [0, 0, 0, 9, 1, 2, 3, 4, 0, 53]);
        await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(source, "fragment"u8.ToArray(), fragment: 1));
        await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(source, "good"u8.ToArray()));
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal("good", Encoding.ASCII.GetString(buffer, 0, result.Length));
        Assert.Equal(3, association.DroppedDatagrams);
    }

    [Fact]
    public async Task DatagramFromForeignSource_IsNeverDelivered()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        using var foreign = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        foreign.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var source = new IPEndPoint(IPAddress.Loopback, 9);
        var buffer = new byte[100];

        await foreign.SendToAsync(FakeSession.Datagram(source, "forged"u8.ToArray()), association.LocalEndPoint).Within();
        await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(source, "relayed"u8.ToArray()));
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        // The socket is connected to the relay, so the kernel drops the forged datagram before the library sees it.
        Assert.Equal("relayed", Encoding.ASCII.GetString(buffer, 0, result.Length));
    }

    [Fact]
    public async Task IcmpErrorOnRelaySocket_IsIgnoredAndCounted()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var source = new IPEndPoint(IPAddress.Loopback, 9);
        var buffer = new byte[100];
        var receive = association.ReceiveAsync(buffer, TestTimeout.Token).AsTask();

        session.CloseRelay();
        await association.SendAsync(source, "into the void"u8.ToArray(), TestTimeout.Token).Within();
        await TestTimeout.UntilAsync(() => association.IgnoredSocketErrors > 0, "the port unreachable error reaches the pending receive");
        session.ReopenRelay();
        await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(source, "still here"u8.ToArray()));
        var result = await receive.Within();

        Assert.Equal("still here", Encoding.ASCII.GetString(buffer, 0, result.Length));
        Assert.Equal(1, association.IgnoredSocketErrors);
    }

    [Fact]
    public async Task IcmpErrorSurfacingOnSend_IsIgnoredAndTheDatagramSent()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var buffer = new byte[100];

        session.CloseRelay();
        await association.SendAsync(echo.EndPoint, "lost"u8.ToArray(), TestTimeout.Token).Within();
        session.ReopenRelay();
        // The kernel keeps the port-unreachable error for the next call on the socket: this send.
        await association.SendAsync(echo.EndPoint, "after"u8.ToArray(), TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal("after", Encoding.ASCII.GetString(buffer, 0, result.Length));
        Assert.Equal(1, association.IgnoredSocketErrors);
    }

    [Theory]
    [InlineData("127.0.0.1", "0.0.0.0")]
    [InlineData("::1", "::")]
    public async Task UnspecifiedBoundAddress_MeansTheProxyAddress(string proxy, string advertised)
    {
        await using var server = new FakeSocks5Server(IPAddress.Parse(proxy)) { AdvertisedAddress = IPAddress.Parse(advertised) };
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var buffer = new byte[100];

        await association.SendAsync(echo.EndPoint, "x"u8.ToArray(), TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal(new IPEndPoint(IPAddress.Parse(proxy), session.RelayEndPoint.Port), association.RelayEndPoint);
        Assert.Equal(1, result.Length);
    }

    [Fact]
    public async Task ConcurrentSends_SecondThrows_AndAfterDisposeSendThrows()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var buffer = new byte[10];
        var pending = association.ReceiveAsync(buffer, TestTimeout.Token).AsTask();

        await Assert.ThrowsAsync<InvalidOperationException>(() => association.ReceiveAsync(buffer, TestTimeout.Token).Within());
        await association.DisposeAsync().Within();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.Within());
        await Assert.ThrowsAsync<ObjectDisposedException>(
            () => association.SendAsync(new IPEndPoint(IPAddress.Loopback, 9), "x"u8.ToArray(), TestTimeout.Token).Within());
    }

    [Fact]
    public async Task BadArguments_Throw()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();

        await Assert.ThrowsAsync<ArgumentException>(() => association.SendAsync(new string('a', 256), 53, "x"u8.ToArray(), TestTimeout.Token).Within());
        await Assert.ThrowsAsync<ArgumentException>(() => association.SendAsync("bücher.example", 53, "x"u8.ToArray(), TestTimeout.Token).Within());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => association.SendAsync("localhost", 65_536, "x"u8.ToArray(), TestTimeout.Token).Within());
        await Assert.ThrowsAsync<ArgumentException>(
            () => association.SendAsync(new IPEndPoint(IPAddress.Loopback, 9), new byte[65_535], TestTimeout.Token).Within());
    }
}
