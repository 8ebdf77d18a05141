using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Client.Tests.Fakes;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

/// <summary>
/// The client's frame reader against a scripted proxy that writes exactly the bytes a test wants:
/// frames dribbled a byte at a time, a malformed frame, a reply without the opt-in, and the request
/// the client sends (the opt-in, by the README's "Notices and commands over TCP").
/// </summary>
public sealed class UdpOverTcpFramingTests
{
    [Fact]
    public async Task Request_NamesTheOptIn()
    {
        var requested = new TaskCompletionSource<Socks5Endpoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new FakeSocks5Server(IPAddress.Loopback)
        {
            UdpOverTcpScript = async (socket, target) =>
            {
                requested.TrySetResult(target);
                await socket.SendAsync(Reply(UdpOverTcpOptIn.Address));
            },
        };

        await using var association = await OpenAsync(server);

        Assert.Equal(new Socks5Endpoint("NOTICES", 1), await requested.Task.Within());
    }

    [Fact]
    public async Task FramesSplitAcrossReads_ByteByByte_ArriveWhole_InOrder()
    {
        var stream = new List<byte>();
        stream.AddRange(Control("NOTICES version=1 commands=set\n"));
        stream.AddRange(Datagram(new SocksAddress(AddressType.IPv4, [192, 0, 2, 7], 53), "four"u8));
        stream.AddRange(Control("UDP-ERROR dst=192.0.2.8:9 error=port-unreachable errno=ECONNREFUSED\n"));
        stream.AddRange(Datagram(new SocksAddress(AddressType.IPv6, IPAddress.Parse("2001:db8::7").GetAddressBytes(), 123), "six"u8));
        stream.AddRange(Datagram(new SocksAddress(AddressType.DomainName, "peer.example"u8, 7), ""u8));
        stream.AddRange(Datagram(new SocksAddress(AddressType.IPv4, [192, 0, 2, 9], 500), new byte[3000]));
        await using var server = new FakeSocks5Server(IPAddress.Loopback)
        {
            UdpOverTcpScript = async (socket, _) =>
            {
                await socket.SendAsync(Reply(UdpOverTcpOptIn.Address));
                socket.NoDelay = true;
                foreach (byte b in stream)
                {
                    await socket.SendAsync(new[] { b });
                }
            },
        };

        await using var association = await OpenAsync(server);
        var buffer = new byte[4000];

        var four = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();
        Assert.Equal("four", Encoding.ASCII.GetString(buffer, 0, four.Length));
        Assert.Equal(new Socks5Endpoint(IPAddress.Parse("192.0.2.7"), 53), four.Source);
        var six = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();
        Assert.Equal("six", Encoding.ASCII.GetString(buffer, 0, six.Length));
        Assert.Equal(new Socks5Endpoint(IPAddress.Parse("2001:db8::7"), 123), six.Source);
        var named = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();
        Assert.Equal(0, named.Length);
        Assert.Equal(new Socks5Endpoint("peer.example", 7), named.Source);
        Assert.Equal(3000, (await association.ReceiveAsync(buffer, TestTimeout.Token).Within()).Length);

        Assert.Equal(OfferedCommands.Set, await association.SupportedCommands.Within());
        Assert.Equal(NoticeVerbs.Notices, (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);
        Assert.Equal("192.0.2.8:9", (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Destination);
    }

    [Fact]
    public async Task MalformedFrame_EndsTheAssociation_AsAProtocolError()
    {
        var closedByClient = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new FakeSocks5Server(IPAddress.Loopback)
        {
            UdpOverTcpScript = async (socket, _) =>
            {
                await socket.SendAsync(Reply(UdpOverTcpOptIn.Address));
                var frame = Datagram(new SocksAddress(AddressType.IPv4, [192, 0, 2, 7], 53), "x"u8);
                frame[2] = 22; // HDRLEN of IPv6 on an IPv4 frame
                byte[] bytes = [.. Control("NOTICES version=1\n"), .. frame];
                await socket.SendAsync(bytes);
                closedByClient.TrySetResult(await socket.ReceiveAsync(new byte[16]));
            },
        };

        await using var association = await OpenAsync(server);

        Assert.Equal(Socks5AssociationEnd.ProtocolError, await association.Closed.Within());
        Assert.Equal(0, await closedByClient.Task.Within());
        await Assert.ThrowsAsync<SocketException>(() => association.SendAsync("localhost", 7, "x"u8.ToArray(), TestTimeout.Token).AsTask()).Within();
    }

    [Fact]
    public async Task ControlFrame_FromAServerThatDidNotAgree_IsMalformed()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback)
        {
            UdpOverTcpScript = async (socket, _) =>
            {
                await socket.SendAsync(Reply(new SocksAddress(AddressType.IPv4, [0, 0, 0, 0], 0)));
                await socket.SendAsync(Control("NOTICES version=1\n"));
            },
        };

        await using var association = await OpenAsync(server);

        Assert.False(await association.NoticesSupported.Within());
        Assert.Equal(Socks5AssociationEnd.ProtocolError, await association.Closed.Within());
    }

    [Fact]
    public async Task LinesThatAreNotOneLine_AreSkipped_MappedFramesOfUnknownMappings_Dropped()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback)
        {
            UdpOverTcpScript = async (socket, _) =>
            {
                await socket.SendAsync(Reply(UdpOverTcpOptIn.Address));
                byte[] bytes = [
                    .. Control("NOTICES version=1\n"),
                    .. Control("two\nlines\n"),
                    .. Control("no newline"),
                    .. Datagram(new SocksAddress(AddressType.IPv4, [192, 0, 2, 7], 53), "stray"u8, mapping: 9),
                    .. Control("CLOSING reason=shutdown\n"),
                    .. Datagram(new SocksAddress(AddressType.IPv4, [192, 0, 2, 7], 53), "mine"u8)];
                await socket.SendAsync(bytes);
            },
        };

        await using var association = await OpenAsync(server);
        var buffer = new byte[10];

        Assert.Equal("mine", Encoding.ASCII.GetString(buffer, 0, (await association.ReceiveAsync(buffer, TestTimeout.Token).Within()).Length));
        Assert.Equal(NoticeVerbs.Notices, (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);
        Assert.Equal(NoticeVerbs.Closing, (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);
        Assert.Equal(1, association.DroppedDatagrams);
        Assert.False(association.Closed.IsCompleted);
    }

    [Fact]
    public async Task AServerWithoutUdpOverTcp_AnswersCommandNotSupported()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => OpenAsync(server));

        Assert.Equal(ReplyCode.CommandNotSupported, e.Reply);
        Assert.Equal("UDP over TCP is not offered by this proxy (it answered CMD 0x05 with REP 7, command not supported).", e.Message);
    }

    [Fact]
    public async Task SendsAreWholeFrames_TheFirstMappingPlain()
    {
        byte[] expected = [0, 2, 10, 1, 192, 0, 2, 7, 0, 53, (byte)'h', (byte)'i', 0, 3, 10, 3, 3, (byte)'a', (byte)'.', (byte)'b', 0, 7, (byte)'a', (byte)'b', (byte)'c'];
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new FakeSocks5Server(IPAddress.Loopback)
        {
            UdpOverTcpScript = async (socket, _) =>
            {
                await socket.SendAsync(Reply(new SocksAddress(AddressType.IPv4, [127, 0, 0, 1], 1080)));
                var buffer = new byte[64];
                int have = 0;
                while (have < expected.Length)
                {
                    have += await socket.ReceiveAsync(buffer.AsMemory(have));
                }

                received.TrySetResult(buffer[..have]);
            },
        };

        await using var association = await OpenAsync(server);
        await association.SendAsync(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 53), "hi"u8.ToArray(), TestTimeout.Token).Within();
        await association.SendAsync("a.b", 7, "abc"u8.ToArray(), TestTimeout.Token).Within();

        Assert.Equal(expected, await received.Task.Within());
    }

    private static Task<Socks5UdpAssociation> OpenAsync(FakeSocks5Server server)
        => Socks5UdpAssociation.OpenAsync(server.Options(), Socks5UdpTransport.Tcp, TestTimeout.Token).Within();

    private static byte[] Reply(in SocksAddress bound)
    {
        var reply = new byte[Socks5Reply.MaxLength];
        return reply[..Socks5Reply.Write(reply, ReplyCode.Succeeded, bound)];
    }

    private static byte[] Control(string line)
    {
        var frame = new byte[UdpOverTcpFrame.ControlHeaderLength + line.Length];
        UdpOverTcpFrame.WriteControl(frame, Encoding.ASCII.GetBytes(line));
        return frame;
    }

    private static byte[] Datagram(in SocksAddress source, ReadOnlySpan<byte> data, ushort mapping = 0)
    {
        var frame = new byte[UdpOverTcpFrame.GetHeaderLength(source, mapping) + data.Length];
        UdpOverTcpFrame.WriteDatagram(frame, source, data, mapping);
        return frame;
    }
}
