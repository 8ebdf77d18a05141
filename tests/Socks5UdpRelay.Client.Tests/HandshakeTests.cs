using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Client.Tests.Fakes;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

public sealed class HandshakeTests
{
    [Fact]
    public async Task NoAuth_OpensAssociation()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);

        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();

        Assert.Equal(session.RelayEndPoint, association.RelayEndPoint);
        Assert.Equal(IPAddress.Loopback, association.LocalEndPoint.Address);
    }

    [Fact]
    public async Task UsernamePassword_OpensAssociation()
    {
        var credentials = new NetworkCredential("alice", "s3cret");
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { RequiredCredentials = credentials };

        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(credentials), TestTimeout.Token).Within();

        Assert.NotNull(await server.NextSessionAsync());
    }

    [Fact]
    public async Task WrongPassword_ThrowsAuthenticationFailed()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { RequiredCredentials = new NetworkCredential("alice", "s3cret") };

        var e = await Assert.ThrowsAsync<Socks5Exception>(
            () => Socks5UdpAssociation.OpenAsync(server.Options(new NetworkCredential("alice", "wrong")), TestTimeout.Token).Within());

        Assert.Equal(Socks5ErrorKind.AuthenticationFailed, e.Kind);
        Assert.Null(e.Reply);
    }

    [Fact]
    public async Task ServerRequiresAuth_ClientHasNone_ThrowsAuthenticationFailed()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { RequiredCredentials = new NetworkCredential("alice", "s3cret") };

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within());

        Assert.Equal(Socks5ErrorKind.AuthenticationFailed, e.Kind);
    }

    [Fact]
    public async Task EmptyPassword_ThrowsArgumentException_BeforeConnecting()
    {
        var options = new Socks5ProxyOptions { Port = 1, Credentials = new NetworkCredential("alice", "") };

        await Assert.ThrowsAsync<ArgumentException>(() => Socks5UdpAssociation.OpenAsync(options, TestTimeout.Token).Within());
    }

    [Theory]
    [InlineData(ReplyCode.GeneralFailure)]
    [InlineData(ReplyCode.ConnectionNotAllowed)]
    [InlineData(ReplyCode.NetworkUnreachable)]
    [InlineData(ReplyCode.HostUnreachable)]
    [InlineData(ReplyCode.ConnectionRefused)]
    [InlineData(ReplyCode.TtlExpired)]
    [InlineData(ReplyCode.CommandNotSupported)]
    [InlineData(ReplyCode.AddressTypeNotSupported)]
    [InlineData((ReplyCode)0x42)]
    public async Task ReplyCode_ThrowsRefused_WithTheCode(ReplyCode code)
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Reply = code };

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within());

        Assert.Equal(Socks5ErrorKind.Refused, e.Kind);
        Assert.Equal(code, e.Reply);
    }

    [Fact]
    public async Task ProxyNotListening_ThrowsProxyUnreachable()
    {
        // Bound but not listening: the port stays ours and every connect to it is refused.
        using var placeholder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        placeholder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var options = new Socks5ProxyOptions { Port = ((IPEndPoint)placeholder.LocalEndPoint!).Port };

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => Socks5UdpAssociation.OpenAsync(options, TestTimeout.Token).Within());

        Assert.Equal(Socks5ErrorKind.ProxyUnreachable, e.Kind);
        Assert.IsType<SocketException>(e.InnerException);
    }

    [Fact]
    public async Task ProxyThatNeverAnswers_ThrowsTimeout()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { NeverAnswer = true };

        var e = await Assert.ThrowsAsync<Socks5Exception>(
            () => Socks5UdpAssociation.OpenAsync(server.Options(handshakeTimeout: TimeSpan.FromMilliseconds(200)), TestTimeout.Token).Within());

        Assert.Equal(Socks5ErrorKind.Timeout, e.Kind);
    }

    [Fact]
    public async Task CallerCancellation_IsNotATimeout()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { NeverAnswer = true };
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Socks5UdpAssociation.OpenAsync(server.Options(), cancel.Token).Within());
    }

    [Fact]
    public async Task MalformedReply_ThrowsProtocolError()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { MalformedReply = true };

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within());

        Assert.Equal(Socks5ErrorKind.ProtocolError, e.Kind);
    }

    [Fact]
    public async Task SocketFactory_CreatesEverySocket()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        var created = new List<(AddressFamily, SocketType)>();
        var options = new Socks5ProxyOptions
        {
            Host = "127.0.0.1",
            Port = server.EndPoint.Port,
            SocketFactory = (family, type, protocol) =>
            {
                lock (created)
                {
                    created.Add((family, type));
                }

                return new Socket(family, type, protocol);
            },
        };

        await using var association = await Socks5UdpAssociation.OpenAsync(options, TestTimeout.Token).Within();

        Assert.Equal([(AddressFamily.InterNetwork, SocketType.Stream), (AddressFamily.InterNetwork, SocketType.Dgram)], created);
    }
}
