using System.Globalization;
using System.Net;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// Commands as control frames (README, "Notices and commands over TCP"): SET, MAP and UNMAP each
/// answered in a control frame, mapped datagram frames through a mapping, a command carried out
/// between the datagram frames around it, a control frame that is not one line, commands off.
/// </summary>
public sealed class UdpOverTcpCommandTests
{
    [Fact]
    public async Task Set_AnsweredSetOk_DatagramsLeaveWithThatTtl()
    {
        await using var server = await RelayServer.StartAsync();
        using var target = TtlReader.Bind();
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);

        await client.SendAsync(HevFrame.Control($"SET dst=127.0.0.1:{target.Port} ttl=7\n"));
        Assert.Equal($"SET-OK dst=127.0.0.1:{target.Port} ttl=7", await client.ReadLineAsync());
        await client.SendAsync(HevFrame.Datagram(target.EndPoint, "x"u8));

        Assert.Equal(7, target.ReceiveTtl());
    }

    [Fact]
    public async Task Command_IsCarriedOutAfterTheFramesBeforeIt_AndBeforeThoseAfterIt()
    {
        await using var server = await RelayServer.StartAsync();
        using var target = TtlReader.Bind();
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);

        await client.SendAsync(
            HevFrame.Datagram(target.EndPoint, "before"u8),
            HevFrame.Control($"SET dst=127.0.0.1:{target.Port} ttl=9\n"),
            HevFrame.Datagram(target.EndPoint, "after"u8));

        Assert.Equal(64, target.ReceiveTtl()); // the system default
        Assert.Equal(9, target.ReceiveTtl());
        Assert.Equal($"SET-OK dst=127.0.0.1:{target.Port} ttl=9", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Map_MappedFramesRoundTripThroughItsPort_NoticesNameIt_UnmapEndsIt()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);

        await client.SendAsync(HevFrame.Control("MAP\n"));
        string mapOk = await client.ReadLineAsync();
        Assert.Matches("^MAP-OK map=[1-9][0-9]* port=[1-9][0-9]*$", mapOk);
        string[] fields = mapOk.Split(' ');
        ushort map = ushort.Parse(fields[1]["map=".Length..], CultureInfo.InvariantCulture);
        int port = int.Parse(fields[2]["port=".Length..], CultureInfo.InvariantCulture);

        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "plain"u8));
        var plain = await client.ReadDatagramAsync();
        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "mapped"u8, map));
        var mapped = await client.ReadDatagramAsync();

        Assert.Equal(((ushort)0, "plain"), (plain.Mapping, plain.Text));
        Assert.Equal((map, "mapped"), (mapped.Mapping, mapped.Text));
        Assert.Equal($"127.0.0.1:{echo.Port}", mapped.Source);
        Assert.Equal(2, echo.Senders.Count);
        Assert.Equal(port, echo.Senders[1].Port); // the mapping's own outbound port
        Assert.NotEqual(echo.Senders[0].Port, echo.Senders[1].Port);

        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await client.SendAsync(HevFrame.Datagram(closed, "x"u8, map));
        Assert.Matches($"^UDP-ERROR dst=127.0.0.1:{closed.Port} error=port-unreachable .* map={map}$", await client.ReadLineAsync());

        await client.SendAsync(HevFrame.Control($"UNMAP map={map}\n"));
        Assert.Equal($"UNMAP-OK map={map}", await client.ReadLineAsync());
        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "gone"u8, map), HevFrame.Datagram(echo.EndPoint, "still"u8));
        var still = await client.ReadDatagramAsync();
        Assert.Equal(((ushort)0, "still"), (still.Mapping, still.Text)); // the frame for the closed mapping was dropped, not fatal
        Assert.Equal(1, server.SingleAssociation().Counters.Dropped(DropReason.UnknownMapping));
    }

    [Theory]
    [InlineData("MAP")] // no newline
    [InlineData("MAP\nMAP\n")] // two lines
    [InlineData("MAP\n\n")]
    [InlineData("\nMAP")]
    [InlineData("")] // DATLEN 0
    public async Task ControlFrameThatIsNotOneLine_AnsweredMalformed_TheNextCommandWorks(string text)
    {
        await using var server = await RelayServer.StartAsync();
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);

        await client.SendAsync(HevFrame.Control(text), HevFrame.Control("MAP\n"));

        Assert.Equal("COMMAND-FAILED reason=malformed", await client.ReadLineAsync());
        Assert.StartsWith("MAP-OK map=", await client.ReadLineAsync());
    }

    [Fact]
    public async Task ControlFrameOfALineOver1024Bytes_AnsweredMalformed()
    {
        await using var server = await RelayServer.StartAsync();
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);

        await client.SendAsync(HevFrame.Control("SET dst=" + new string('a', 1010) + ":1 ttl=1\n"), HevFrame.Control("MAP\n"));

        Assert.Equal("COMMAND-FAILED reason=malformed", await client.ReadLineAsync());
        Assert.StartsWith("MAP-OK map=", await client.ReadLineAsync());
    }

    [Fact]
    public async Task ClientThatNeverReadsItsAnswers_IsNoLongerRead_AnswersNeverDropped_OthersServed()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true, receiveBuffer: 4096);

        // Far more commands than the buffers on both sides hold (a few MB): once the answers have
        // nowhere to go, the server must stop reading, and our sends then block.
        const int Count = 800_000;
        byte[] commands = [.. Enumerable.Range(0, Count).SelectMany(i => HevFrame.Control($"UNMAP map={(i % 65_535) + 1}\n"))];
        using var stuck = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        int written = 0;
        try
        {
            while (written < commands.Length)
            {
                written += await client.Socket.SendAsync(commands.AsMemory(written, Math.Min(4096, commands.Length - written)), System.Net.Sockets.SocketFlags.None, stuck.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Our send buffer is full too: the server stopped reading us.
        }

        Assert.True(written < commands.Length / 2, $"{written} of {commands.Length} bytes were taken although nobody read the answers");
        await using (var other = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true))
        {
            await other.SendAsync(HevFrame.Control("MAP\n"), HevFrame.Datagram(echo.EndPoint, "served"u8));
            Assert.StartsWith("MAP-OK", await other.ReadLineAsync());
            Assert.Equal("served"u8.ToArray(), (await other.ReadDatagramAsync()).Data);
        }

        client.Socket.ReceiveBufferSize = 1 << 20;
        for (int i = 0; i < 20_000; i++)
        {
            string answer = await client.ReadLineAsync(); // never a gap: every command has its answer, in order
            Assert.Matches($"^UNMAP-FAILED map={(i % 65_535) + 1} reason=(invalid|rate-limit)$", answer);
        }
    }

    [Theory]
    [InlineData("MAP\r\n", "MAP-OK map=1 port=")] // one \r before the \n is tolerated
    [InlineData("FLY to=moon\n", "COMMAND-FAILED verb=FLY reason=unknown")]
    [InlineData("UNMAP map=0\n", "UNMAP-FAILED map=0 reason=invalid")]
    [InlineData("SET dst=127.0.0.1:53 ttl=256\n", "SET-FAILED dst=127.0.0.1:53 reason=invalid")]
    public async Task CommandsInFrames_FollowTheRulesOfTheControlConnection(string line, string answer)
    {
        await using var server = await RelayServer.StartAsync();
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true);

        await client.SendAsync(HevFrame.Control(line));

        Assert.StartsWith(answer, await client.ReadLineAsync());
    }

    [Fact]
    public async Task CommandsOff_GreetingWithoutCommands_ControlFramesReadAndDropped()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Commands"] = "off" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn: true, greeting: "NOTICES version=1");

        await client.SendAsync(HevFrame.Control("MAP\n"), HevFrame.Control("not even a line"), HevFrame.Datagram(echo.EndPoint, "relayed"u8));
        Assert.Equal("relayed"u8.ToArray(), (await client.ReadDatagramAsync()).Data); // no answer came before it

        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await client.SendAsync(HevFrame.Datagram(closed, "x"u8));
        Assert.StartsWith("UDP-ERROR", await client.ReadLineAsync()); // notices still come; MAP was never answered
        Assert.Equal(1, server.Endpoints.OpenAssociations);
    }
}
