using System.Net;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Udp;

/// <summary>
/// The same relay on both I/O engines: the epoll loop (the default on Linux, which every other
/// test uses) and the portable async socket loops (<c>Relay:IoEngine=async</c>, what other
/// platforms get).
/// </summary>
public sealed class IoEngineTests
{
    public static TheoryData<string> Engines => new() { "auto", "async" };

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task EchoAndPortUnreachable_OnEitherEngine(string engine)
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:IoEngine"] = engine });
        Assert.Contains(server.Logs.Events, e => e.EventId == 1006 && e.Message.Contains(engine == "async" ? "async" : "epoll"));
        await using var echo = new UdpEcho(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        for (int i = 0; i < 3; i++)
        {
            await association.SendToAsync(echo.EndPoint, [(byte)i]);
            Assert.Equal(new[] { (byte)i }, (await association.ReceiveAsync()).Payload);
        }

        var closed = NoticeTests.FreeUdpPort(IPAddress.Loopback);
        await association.SendToAsync(closed, "x"u8.ToArray());
        Assert.True(Notice.TryParse(await association.Control.ReadLineAsync() ?? string.Empty, out var notice));
        Assert.Equal(UdpErrorKind.PortUnreachable, notice.ErrorKind);
        Assert.Equal("127.0.0.1", notice.From?.ToString());

        await association.SendAsync(RawSocks.Datagram("localhost", echo.Port, "named"u8));
        Assert.Equal("named"u8.ToArray(), (await association.ReceiveAsync()).Payload);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task ClosingTheControlConnection_EndsTheAssociation_OnEitherEngine(string engine)
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:IoEngine"] = engine });
        await using var echo = new UdpEcho(IPAddress.Loopback);
        var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "x"u8.ToArray());
        await association.ReceiveAsync();
        await association.DisposeAsync();
        await server.WaitForNoAssociationsAsync();
        Assert.Contains(server.Logs.Events, e => e.EventId == 3002 && e.Message.Contains("client closed"));
    }
}
