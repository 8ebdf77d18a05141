using System.Net;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// Datagrams over the SOCKS TCP connection (README, "UDP over TCP") against the real server, from
/// a client that speaks hev-socks5's framing as the README describes it: each address type and
/// family, frames however TCP cuts or joins them, frames sent before the reply.
/// </summary>
public sealed class UdpOverTcpRoundTripTests
{
    public static TheoryData<string, bool> FamiliesAndOptIn => new() { { "127.0.0.1", false }, { "::1", false }, { "127.0.0.1", true }, { "::1", true } };

    [Theory]
    [MemberData(nameof(FamiliesAndOptIn))]
    public async Task Echo_HevStyleOrOptedIn_ReplyFrameNamesTheSource(string loopback, bool optIn)
    {
        var ip = IPAddress.Parse(loopback);
        await using var server = await RelayServer.StartAsync(listen: new IPEndPoint(ip, 0).ToString());
        await using var echo = UdpResponder.Echo(ip);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn);

        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "hello over tcp"u8));

        var reply = await client.ReadDatagramAsync();
        Assert.Equal(SourceText(echo.EndPoint), reply.Source);
        Assert.Equal(0, reply.Mapping);
        Assert.Equal("hello over tcp"u8.ToArray(), reply.Data);
        Assert.Equal(1, echo.Received);
    }

    [Fact]
    public async Task Echo_ToAName_IsResolvedByTheServer_ReplyNamesTheAddress()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint);

        await client.SendAsync(HevFrame.Datagram("localhost", echo.Port, "by name"u8));

        var reply = await client.ReadDatagramAsync();
        Assert.Equal($"127.0.0.1:{echo.Port}", reply.Source);
        Assert.Equal("by name"u8.ToArray(), reply.Data);
    }

    [Fact]
    public async Task EmptyDatagram_DatLenZero_TravelsBothWays()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint);

        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, []));

        var reply = await client.ReadDatagramAsync();
        Assert.Empty(reply.Data);
        Assert.Equal(1, echo.Received);
    }

    [Fact]
    public async Task ManyFramesInOneWrite_AllRelayed_RepliesInOrder()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var echo6 = UdpResponder.Echo(IPAddress.IPv6Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint);

        // The name resolved first: while a lookup is pending the relay holds only a few datagrams
        // for it (the rest are dropped as unresolved, as on any association).
        await client.SendAsync(HevFrame.Datagram("localhost", echo.Port, "warm"u8));
        Assert.Equal("warm"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
        const int Count = 200;
        var frames = Enumerable.Range(0, Count).Select(i => (i % 3) switch
        {
            0 => HevFrame.Datagram(echo.EndPoint, BitConverter.GetBytes(i)),
            1 => HevFrame.Datagram("localhost", echo.Port, BitConverter.GetBytes(i)),
            _ => HevFrame.Datagram(echo6.EndPoint, BitConverter.GetBytes(i)),
        }).ToArray();

        await client.SendAsync(frames);

        var seen = new List<int>();
        for (int i = 0; i < Count; i++)
        {
            var reply = await client.ReadDatagramAsync();
            int n = BitConverter.ToInt32(reply.Data);
            Assert.Equal(n % 3 == 2 ? SourceText(echo6.EndPoint) : SourceText(echo.EndPoint), reply.Source);
            seen.Add(n);
        }

        // Each kind keeps its order; the two echo servers may answer in either order.
        Assert.Equal(Enumerable.Range(0, Count), seen.Order());
        for (int kind = 0; kind < 3; kind++)
        {
            Assert.Equal(seen.Where(n => n % 3 == kind).Order(), seen.Where(n => n % 3 == kind));
        }
    }

    [Fact]
    public async Task FrameSplitAtEveryPoint_AcrossTwoWrites_IsRelayedOnce()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint);
        byte[] frame = HevFrame.Datagram(echo.EndPoint, "split"u8);

        for (int cut = 1; cut < frame.Length; cut++)
        {
            await client.SendAsync(frame[..cut]);
            await SegmentGapAsync();
            await client.SendAsync(frame[cut..]);
            var reply = await client.ReadDatagramAsync();
            Assert.Equal("split"u8.ToArray(), reply.Data);
        }

        Assert.Equal(frame.Length - 1, echo.Received);
    }

    [Fact]
    public async Task FramesWrittenByteByByte_AreRelayed()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint);
        byte[] frames = [.. HevFrame.Datagram("localhost", echo.Port, "one"u8), .. HevFrame.Datagram(echo.EndPoint, "two"u8)];

        foreach (byte b in frames)
        {
            await client.SendAsync([b]);
            await SegmentGapAsync();
        }

        Assert.Equal("one"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
        Assert.Equal("two"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FramesRightBehindTheRequest_BeforeTheReply_AreRelayed(bool optIn)
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(
            server.EndPoint, optIn, RawUdpOverTcp.Greeting, 0, HevFrame.Datagram(echo.EndPoint, "early 1"u8), HevFrame.Datagram(echo.EndPoint, "early 2"u8));

        Assert.Equal("early 1"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
        Assert.Equal("early 2"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
    }

    [Fact]
    public async Task PipelinedHandshake_GreetingRequestAndFramesInOneWrite_AsHevSocks5TunnelSendsThem()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.ConnectAsync(server.EndPoint, pipelined: true);

        var (code, bound) = await client.PipelineAsync(RawUdpOverTcp.HevRequest, HevFrame.Datagram(echo.EndPoint, "pipelined"u8));

        Assert.Equal(0x00, code);
        Assert.Contains(bound[0], new byte[] { 0x01, 0x04 });
        Assert.Equal("pipelined"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
    }

    [Fact]
    public async Task PipelinedHandshake_MoreFramesThanASmallMaxDatagramSizeBuffers_AreAllRelayed()
    {
        // Relay:MaxDatagramSize=100 sizes the frame buffer for two frames of 100 bytes; a
        // pipelining client may already have sent more than that behind its request.
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:MaxDatagramSize"] = "100" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.ConnectAsync(server.EndPoint, pipelined: true);
        byte[][] frames = [.. Enumerable.Range(0, 8).Select(i => HevFrame.Datagram(echo.EndPoint, (byte[])[(byte)i, .. new byte[89]]))];

        var (code, _) = await client.PipelineAsync(RawUdpOverTcp.HevRequest, frames);

        Assert.Equal(0x00, code);
        for (int i = 0; i < frames.Length; i++)
        {
            Assert.Equal(i, (await client.ReadDatagramAsync()).Data[0]);
        }
    }

    [Fact]
    public async Task ClientClosesItsSide_TheAssociationEnds_AndTheServerCloses()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint);
        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "last"u8));
        Assert.Equal("last"u8.ToArray(), (await client.ReadDatagramAsync()).Data);
        Assert.Equal(1, server.Endpoints.OpenAssociations);

        client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        Assert.Empty(await client.ReadToEndAsync());
        await server.WaitForNoAssociationsAsync();
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("UDP association closed", StringComparison.Ordinal));
    }

    internal static string SourceText(IPEndPoint endPoint) => endPoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"[{endPoint.Address}]:{endPoint.Port}"
        : $"{endPoint.Address}:{endPoint.Port}";

    /// <summary>
    /// Lets a write leave as its own TCP segment and the server read it before the next: there is
    /// no event for "the server has read these bytes", and a merged read would only make the test
    /// weaker, never wrong.
    /// </summary>
    private static Task SegmentGapAsync() => Task.Delay(2);
}
