using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Control;

/// <summary>
/// Client commands on the control connection against the real server (README, "Client
/// commands"): every failure class with its exact answer, SET in force before its answer, the
/// answers' order and back-pressure, and what a client that never sends a command sees.
/// </summary>
public sealed class CommandTests
{
    [Theory]
    [InlineData("SET dst=127.0.0.1:53 ttl=0", "SET-FAILED dst=127.0.0.1:53 reason=invalid")]
    [InlineData("SET dst=127.0.0.1:53 ttl=256", "SET-FAILED dst=127.0.0.1:53 reason=invalid")]
    [InlineData("SET dst=127.0.0.1:53 ttl=abc", "SET-FAILED dst=127.0.0.1:53 reason=invalid")]
    [InlineData("SET dst=127.0.0.1:53", "SET-FAILED dst=127.0.0.1:53 reason=invalid")]
    [InlineData("SET dst=127.0.0.1:53 ttl=3 color=blue", "SET-FAILED dst=127.0.0.1:53 reason=invalid")]
    [InlineData("SET dst=127.0.0.1:53 ttl=3 map=7", "SET-FAILED dst=127.0.0.1:53 reason=invalid")]
    [InlineData("SET dst=127.0.0.1:53 dst=127.0.0.1:54 ttl=3", "COMMAND-FAILED reason=malformed")]
    [InlineData("SET  dst=127.0.0.1:53 ttl=3", "COMMAND-FAILED reason=malformed")]
    [InlineData("SET dst=127.0.0.1:53 ttl=\u00013", "COMMAND-FAILED reason=malformed")]
    [InlineData("FLY to=moon", "COMMAND-FAILED verb=FLY reason=unknown")]
    [InlineData("UNMAP map=0", "UNMAP-FAILED map=0 reason=invalid")]
    [InlineData("UNMAP map=99", "UNMAP-FAILED map=99 reason=invalid")]
    [InlineData("SET dst=169.254.169.254:80 ttl=5", "SET-FAILED dst=169.254.169.254:80 reason=policy")]
    [InlineData("SET dst=nowhere.test:53 ttl=5", "SET-FAILED dst=nowhere.test:53 reason=unresolved")]
    public async Task EachFailureClass_HasItsAnswer_AndTheAssociationGoesOn(string command, string answer)
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await SendLineAsync(association, command);
        Assert.Equal(answer, await association.Control.ReadLineAsync());
        Assert.Equal(0, TheAssociation(server).DestinationCount); // nothing opened for a refusal

        await association.SendToAsync(echo.EndPoint, "still"u8.ToArray());
        Assert.Equal("still"u8.ToArray(), (await association.ReceiveAsync()).Payload);
    }

    [Fact]
    public async Task Set_IsInForceBeforeItsAnswer_DatagramsLeaveWithThatTtl()
    {
        await using var server = await RelayServer.StartAsync();
        using var target = TtlReader.Bind();
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await SendLineAsync(association, $"SET dst=127.0.0.1:{target.Port} ttl=7");
        Assert.Equal($"SET-OK dst=127.0.0.1:{target.Port} ttl=7", await association.Control.ReadLineAsync());
        await association.SendToAsync(target.EndPoint, "x"u8.ToArray());
        Assert.Equal(7, target.ReceiveTtl());

        await SendLineAsync(association, $"SET dst=localhost:{target.Port} ttl=default");
        Assert.Equal($"SET-OK dst=localhost:{target.Port} addr=127.0.0.1:{target.Port} ttl=default", await association.Control.ReadLineAsync());
        await association.SendToAsync(target.EndPoint, "y"u8.ToArray());
        Assert.Equal(64, target.ReceiveTtl()); // the system default again
        Assert.Equal(1, TheAssociation(server).DestinationCount); // one socket for the name and its address
    }

    [Fact]
    public async Task OverLongLine_IsMalformedOnce_TheRestUpToItsNewlineDiscarded_TheNextLineAnswered()
    {
        await using var server = await RelayServer.StartAsync();
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.Control.SendAsync(Encoding.ASCII.GetBytes("SET dst=" + new string('a', 2000) + ":1 ttl=1\nMAP\n"));
        Assert.Equal("COMMAND-FAILED reason=malformed", await association.Control.ReadLineAsync());
        Assert.StartsWith("MAP-OK map=1 port=", await association.Control.ReadLineAsync());
    }

    [Fact]
    public async Task LineSplitAcrossSegments_IsAnsweredOnce_WhenWhole()
    {
        await using var server = await RelayServer.StartAsync();
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        association.Control.Control.NoDelay = true;
        foreach (string piece in new[] { "SE", "T dst=127.0", ".0.1:9 tt", "l=12", "\n" })
        {
            await association.Control.SendAsync(Encoding.ASCII.GetBytes(piece));
            await Task.Yield();
        }

        Assert.Equal("SET-OK dst=127.0.0.1:9 ttl=12", await association.Control.ReadLineAsync());
    }

    [Fact]
    public async Task ThousandCommandsInABurst_AreAllAnswered_InOrder()
    {
        await using var server = await RelayServer.StartAsync();
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        var burst = new StringBuilder();
        for (int i = 0; i < 1000; i++)
        {
            burst.Append(i % 2 == 0 ? $"SET dst=127.0.0.1:{1000 + (i % 50)} ttl={1 + (i % 200)}\n" : $"UNMAP map={i}\n");
        }

        await association.Control.SendAsync(Encoding.ASCII.GetBytes(burst.ToString()));
        for (int i = 0; i < 1000; i++)
        {
            string? line = await association.Control.ReadLineAsync();
            Assert.Equal(i % 2 == 0 ? $"SET-OK dst=127.0.0.1:{1000 + (i % 50)} ttl={1 + (i % 200)}" : $"UNMAP-FAILED map={i} reason=invalid", line);
        }
    }

    [Fact]
    public async Task PastTheCommandRate_RefusedAsRateLimit_NotDropped()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:CommandsPerSecond"] = "1", ["Relay:CommandBurst"] = "2" });
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.Control.SendAsync("MAP\nMAP\nMAP\nUNMAP map=1\n"u8.ToArray());
        Assert.StartsWith("MAP-OK map=1 ", await association.Control.ReadLineAsync());
        Assert.StartsWith("MAP-OK map=2 ", await association.Control.ReadLineAsync());
        Assert.Equal("MAP-FAILED reason=rate-limit", await association.Control.ReadLineAsync());
        Assert.Equal("UNMAP-FAILED map=1 reason=rate-limit", await association.Control.ReadLineAsync());
    }

    [Fact]
    public async Task ClientThatNeverReadsItsAnswers_IsNoLongerRead_WhileTheRelayGoesOn()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:NoticeQueueLength"] = "4" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        var control = await RawSocks.ConnectAsync(server.EndPoint);
        control.Control.ReceiveBufferSize = 4096; // and then never read
        await using var association = await OpenWithControlAsync(control);

        // Far more commands than the kernel's buffers on both sides hold (a few MB): once its
        // answers have nowhere to go, the server must stop reading, and our sends then block.
        byte[] commands = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("SET dst=127.0.0.1:9 ttl=9\n", 640_000)));
        using var stuck = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        int written = 0;
        try
        {
            while (written < commands.Length)
            {
                written += await control.Control.SendAsync(commands.AsMemory(written, Math.Min(4096, commands.Length - written)), SocketFlags.None, stuck.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Our send buffer is full too: the server stopped reading us.
        }

        Assert.True(written < commands.Length, "the server read every command although nobody read its answers");
        Assert.True(written < commands.Length / 2, $"{written} of {commands.Length} bytes were taken");
        for (int i = 0; i < 20; i++)
        {
            await association.SendToAsync(echo.EndPoint, BitConverter.GetBytes(i));
            Assert.Equal(BitConverter.GetBytes(i), (await association.ReceiveAsync()).Payload);
        }

        await using var other = await RawAssociation.OpenAsync(server.EndPoint);
        await SendLineAsync(other, "MAP");
        Assert.StartsWith("MAP-OK", await other.Control.ReadLineAsync());
    }

    [Fact]
    public async Task StandardClientWritingRandomBytes_StillRelays()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        var random = new Random(1928);
        byte[] noise = new byte[64 * 1024];
        random.NextBytes(noise);
        await association.Control.SendAsync(noise);
        for (int i = 0; i < 5; i++)
        {
            await association.SendToAsync(echo.EndPoint, [(byte)i]);
            Assert.Equal(new[] { (byte)i }, (await association.ReceiveAsync()).Payload);
        }
    }

    [Fact]
    public async Task CommandsOff_GreetingWithoutCommands_LinesDiscarded_NoAnswer()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Commands"] = "off" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        var control = await RawSocks.ConnectAsync(server.EndPoint);
        var relay = await control.AssociateAsync();
        Assert.Equal("NOTICES version=1", await control.ReadLineAsync());
        await control.SendAsync("MAP\n"u8.ToArray());
        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await using var association = RawAssociationAccess.Create(control, Bound(), relay);
        await association.SendToAsync(closed, "x"u8.ToArray());
        Assert.StartsWith("UDP-ERROR", await control.ReadLineAsync()); // the next line is a notice: MAP was not answered
    }

    [Fact]
    public async Task Mappings_HaveTheirOwnOutboundPorts_RepliesAndNoticesNameThem_UnmapClosesThem()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await SendLineAsync(association, "MAP");
        string mapOk = (await association.Control.ReadLineAsync())!;
        Assert.StartsWith("MAP-OK map=1 port=", mapOk);
        int port1 = int.Parse(mapOk["MAP-OK map=1 port=".Length..], System.Globalization.CultureInfo.InvariantCulture);

        await association.SendAsync(WithRsv(RawSocks.Datagram(echo.EndPoint, "zero"u8), 0));
        var (reply0, rsv0) = await ReceiveWithRsvAsync(association);
        await association.SendAsync(WithRsv(RawSocks.Datagram(echo.EndPoint, "one"u8), 1));
        var (reply1, rsv1) = await ReceiveWithRsvAsync(association);
        Assert.Equal(("zero", 0), (reply0, rsv0));
        Assert.Equal(("one", 1), (reply1, rsv1));
        var ports = echo.Senders.Select(s => s.Port).ToArray();
        Assert.Equal(2, ports.Length);
        Assert.NotEqual(ports[0], ports[1]); // each mapping its own external port
        Assert.Equal(port1, ports[1]);

        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        await association.SendAsync(WithRsv(RawSocks.Datagram(closed, "x"u8), 1));
        Assert.Matches($"^UDP-ERROR dst=127.0.0.1:{closed.Port} error=port-unreachable .* map=1$", await association.Control.ReadLineAsync());

        await SendLineAsync(association, "UNMAP map=1");
        Assert.Equal("UNMAP-OK map=1", await association.Control.ReadLineAsync());
        Assert.Equal(1, TheAssociation(server).DestinationCount); // mapping 0's echo flow alone
        await association.SendAsync(WithRsv(RawSocks.Datagram(echo.EndPoint, "gone"u8), 1)); // no such mapping any more: dropped
        await association.SendAsync(WithRsv(RawSocks.Datagram(echo.EndPoint, "still"u8), 0));
        Assert.Equal(("still", 0), await ReceiveWithRsvAsync(association));
    }

    [Fact]
    public async Task ClientThatNeverMaps_SeesRsvZero_WhateverItPutThere()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendAsync(WithRsv(RawSocks.Datagram(echo.EndPoint, "junk rsv"u8), 0xBEEF));
        Assert.Equal(("junk rsv", 0), await ReceiveWithRsvAsync(association));
    }

    [Fact]
    public async Task MappingsPastTheCap_AreRefusedAsLimit()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:MaxMappingsPerAssociation"] = "3" });
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.Control.SendAsync("MAP\nMAP\nMAP\n"u8.ToArray());
        Assert.StartsWith("MAP-OK map=1 ", await association.Control.ReadLineAsync());
        Assert.StartsWith("MAP-OK map=2 ", await association.Control.ReadLineAsync());
        Assert.Equal("MAP-FAILED reason=limit", await association.Control.ReadLineAsync());
    }

    [Fact]
    public async Task DestinationWithASetting_ClosedIdle_IsTold()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:DestinationIdleTimeout"] = "00:01:00",
            ["Relay:AssociationIdleTimeout"] = "00:00:00",
        }, time: time);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await SendLineAsync(association, "SET dst=127.0.0.1:9 ttl=4");
        Assert.Equal("SET-OK dst=127.0.0.1:9 ttl=4", await association.Control.ReadLineAsync());
        time.Advance(TimeSpan.FromSeconds(80));
        Assert.Equal("DST-CLOSED dst=127.0.0.1:9 reason=idle", await association.Control.ReadLineAsync());
    }

    [Fact]
    public async Task ThousandMapUnmapCycles_LeakNoDescriptor()
    {
        await using var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0"]);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        int before = Directory.GetFiles($"/proc/{server.Pid}/fd").Length;
        for (int i = 0; i < 1000; i++)
        {
            await SendLineAsync(association, "MAP");
            string ok = (await association.Control.ReadLineAsync())!;
            string number = ok.Split(' ')[1]["map=".Length..];
            await association.SendAsync(WithRsv(RawSocks.Datagram(echo.EndPoint, "x"u8), ushort.Parse(number, System.Globalization.CultureInfo.InvariantCulture)));
            await association.ReceiveAsync();
            await SendLineAsync(association, $"UNMAP map={number}");
            Assert.Equal($"UNMAP-OK map={number}", await association.Control.ReadLineAsync());
        }

        Assert.Equal(before, Directory.GetFiles($"/proc/{server.Pid}/fd").Length);
    }

    private static Server.Relay.UdpAssociation TheAssociation(RelayServer server)
        => Assert.Single(((Server.Control.AssociationRegistry)server.Services.GetService(typeof(Server.Control.AssociationRegistry))!).Associations);

    private static Task SendLineAsync(RawAssociation association, string line) => association.Control.SendAsync(Encoding.ASCII.GetBytes(line + "\n"));

    private static byte[] WithRsv(byte[] datagram, ushort rsv)
    {
        BinaryPrimitives.WriteUInt16BigEndian(datagram, rsv);
        return datagram;
    }

    private static async Task<(string Payload, ushort Rsv)> ReceiveWithRsvAsync(RawAssociation association)
    {
        byte[] buffer = new byte[2048];
        var result = await association.Udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), TestTimeout.Token);
        Assert.True(UdpRequestHeader.TryParse(buffer.AsSpan(0, result.ReceivedBytes), out ushort rsv, out _, out _, out int headerLength));
        return (Encoding.ASCII.GetString(buffer, headerLength, result.ReceivedBytes - headerLength), rsv);
    }

    private static async Task<RawAssociation> OpenWithControlAsync(RawSocks control)
    {
        var relay = await control.AssociateAsync();
        Assert.Equal("NOTICES version=1 commands=set,map", await control.ReadLineAsync());
        return RawAssociationAccess.Create(control, Bound(), relay);
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}
