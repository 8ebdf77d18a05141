using System.Net;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>The relay driven through the client library, as any SOCKS5 client would use it.</summary>
public sealed class RelayRoundTripTests
{
    public static TheoryData<string, string> ProxyAndDestination
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (string proxy in new[] { "127.0.0.1", "::1" })
            {
                foreach (string destination in new[] { "127.0.0.1", "::1", "localhost" })
                {
                    data.Add(proxy, destination);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ProxyAndDestination))]
    public async Task Echo_ForEachAtypAndFamily_ReplyNamesTheRealSource(string proxy, string destination)
    {
        var proxyIp = IPAddress.Parse(proxy);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(proxyIp, 0).ToString());
        var echoIp = destination == "localhost" ? IPAddress.Loopback : IPAddress.Parse(destination);
        await using var echo = UdpResponder.Echo(echoIp);
        await using var association = await OpenAsync(server);

        byte[] payload = "hello through the relay"u8.ToArray();
        if (destination == "localhost")
        {
            await association.SendAsync("localhost", echo.Port, payload, TestTimeout.Token);
        }
        else
        {
            await association.SendAsync(echo.EndPoint, payload, TestTimeout.Token);
        }

        byte[] buffer = new byte[65_536];
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token);
        Assert.Equal(payload, buffer[..result.Length]);
        Assert.Equal(echoIp, result.Source.Address); // a name's reply names the resolved IP
        Assert.Equal(echo.Port, result.Source.Port);
    }

    [Theory]
    [InlineData("127.0.0.1", 0)]
    [InlineData("127.0.0.1", 1)]
    [InlineData("127.0.0.1", 1_472)]
    [InlineData("127.0.0.1", 65_000)]
    [InlineData("::1", 0)]
    [InlineData("::1", 65_000)]
    public async Task Payloads_FromEmptyTo65000Bytes_ArriveWhole(string loopback, int size)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(ip, 0).ToString());
        await using var echo = UdpResponder.Echo(ip);
        await using var association = await OpenAsync(server);
        byte[] payload = new byte[size];
        Random.Shared.NextBytes(payload);
        await association.SendAsync(echo.EndPoint, payload, TestTimeout.Token);
        byte[] buffer = new byte[65_536];
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token);
        Assert.Equal(size, result.Length);
        Assert.Equal(payload, buffer[..result.Length]);
    }

    [Fact]
    public async Task SeveralDestinationsInterleaved_EachReplyComesFromItsOwn()
    {
        await using var server = await RelayServer.StartAsync();
        var echoes = new[] { UdpResponder.Echo(IPAddress.Loopback), UdpResponder.Echo(IPAddress.IPv6Loopback), UdpResponder.Echo(IPAddress.Loopback) };
        try
        {
            await using var association = await OpenAsync(server);
            var expected = new Dictionary<string, string>();
            for (int i = 0; i < 30; i++)
            {
                var echo = echoes[i % echoes.Length];
                string text = $"datagram {i} for {echo.EndPoint}";
                expected[text] = new Socks5Endpoint(echo.EndPoint.Address, echo.Port).ToString();
                await association.SendAsync(echo.EndPoint, System.Text.Encoding.ASCII.GetBytes(text), TestTimeout.Token);
            }

            byte[] buffer = new byte[1024];
            for (int i = 0; i < 30; i++)
            {
                var result = await association.ReceiveAsync(buffer, TestTimeout.Token);
                string text = System.Text.Encoding.ASCII.GetString(buffer, 0, result.Length);
                Assert.True(expected.Remove(text, out string? source), text);
                Assert.Equal(source, result.Source.ToString());
            }

            Assert.Empty(expected);
            Assert.Equal(3, server.SingleAssociation().DestinationCount);
        }
        finally
        {
            foreach (var echo in echoes)
            {
                await echo.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task NoticesLineFirst_ThenPortUnreachable_WhileNothingElseIsSent()
    {
        await using var server = await RelayServer.StartAsync();
        await using var association = await OpenAsync(server);
        Assert.True(await association.NoticesSupported.Within());
        var first = await association.Notices.ReadAsync(TestTimeout.Token);
        Assert.Equal("NOTICES version=1 commands=set,map", first.Line);

        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await association.SendAsync(closed, "anyone?"u8.ToArray(), TestTimeout.Token);
        var notice = await association.Notices.ReadAsync(TestTimeout.Token);
        Assert.Equal(NoticeVerbs.UdpError, notice.Verb);
        Assert.Equal($"127.0.0.1:{closed.Port}", notice.Destination);
        Assert.Equal(UdpErrorKind.PortUnreachable, notice.ErrorKind);
        Assert.Equal("ECONNREFUSED", notice.Errno);
    }

    [Fact]
    public async Task AssociationStaysUp_AfterErrors_AndKeepsRelayingToOthers()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await OpenAsync(server);
        await association.Notices.ReadAsync(TestTimeout.Token); // NOTICES version=1
        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        byte[] buffer = new byte[64];
        for (int i = 0; i < 5; i++)
        {
            await association.SendAsync(closed, "x"u8.ToArray(), TestTimeout.Token);
            Assert.Equal(UdpErrorKind.PortUnreachable, (await association.Notices.ReadAsync(TestTimeout.Token)).ErrorKind);
            await association.SendAsync(echo.EndPoint, new[] { (byte)i }, TestTimeout.Token);
            var result = await association.ReceiveAsync(buffer, TestTimeout.Token);
            Assert.Equal(i, buffer[result.Length - 1]);
        }
    }

    private static Task<Socks5UdpAssociation> OpenAsync(RelayServer server)
        => Socks5UdpAssociation.OpenAsync(new Socks5ProxyOptions { Host = server.EndPoint.Address.ToString(), Port = server.EndPoint.Port }, TestTimeout.Token);
}
