using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Client.Tests.Fakes;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

/// <summary>UDP ASSOCIATE names the UDP socket the library sends from, so nobody else can take the association over.</summary>
public sealed class AssociateRequestTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task Request_NamesTheUdpSocketsAddressAndPort(string proxy)
    {
        await using var server = new FakeSocks5Server(IPAddress.Parse(proxy));
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();

        Assert.Equal(new Socks5Endpoint(association.LocalEndPoint.Address, association.LocalEndPoint.Port), session.Requested);
        Assert.Equal(((IPEndPoint)session.Control.RemoteEndPoint!).Address, association.LocalEndPoint.Address);
        Assert.NotEqual(0, association.LocalEndPoint.Port);
    }

    [Fact]
    public async Task ASocketThatSendsFirst_CannotTakeTheAssociationOver()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        using var intruder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        intruder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var buffer = new byte[100];

        await intruder.SendToAsync(FakeSession.Datagram(echo.EndPoint, "hijack"u8.ToArray()), session.RelayEndPoint).Within();
        await TestTimeout.UntilAsync(() => Interlocked.Read(ref session.ForeignDatagrams) == 1, "the relay refuses the intruder");
        await association.SendAsync(echo.EndPoint, "mine"u8.ToArray(), TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Equal("mine", Encoding.ASCII.GetString(buffer, 0, result.Length));
        Assert.Equal(0, association.DroppedDatagrams);
    }
}
