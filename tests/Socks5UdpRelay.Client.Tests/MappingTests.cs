using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Client.Tests.Fakes;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

/// <summary>MAP and UNMAP: mapping objects with their own outbound port, sending with their number in RSV and getting their own replies.</summary>
public sealed class MappingTests
{
    private const OfferedCommands All = OfferedCommands.Set | OfferedCommands.Map;

    private static async Task<(FakeSocks5Server Server, Socks5UdpAssociation Association, FakeSession Session)> OpenAsync(
        bool manual = false, int maxMappings = 8, TimeSpan? handshakeTimeout = null)
    {
        var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, ManualAnswers = manual, MaxMappings = maxMappings };
        var association = await Socks5UdpAssociation.OpenAsync(server.Options(handshakeTimeout: handshakeTimeout), TestTimeout.Token).Within();
        return (server, association, await server.NextSessionAsync());
    }

    [Fact]
    public async Task Map_GivesAMappingWithTheNumberAndPortTheProxyChose()
    {
        var (server, association, session) = await OpenAsync();
        await using (server)
        await using (association)
        {
            await using var first = await association.MapAsync(TestTimeout.Token).Within();
            await using var second = await association.MapAsync(TestTimeout.Token).Within();

            Assert.Equal((ushort)1, first.Number);
            Assert.Equal((ushort)2, second.Number);
            Assert.Equal(session.OutboundEndPoint(1, AddressFamily.InterNetwork).Port, first.OutboundPort);
            Assert.Same(association, first.Association);
            Assert.Equal([(ushort)0, (ushort)1, (ushort)2], session.Mappings);
            Assert.Equal(["MAP", "MAP"], session.CommandLines);
        }
    }

    [Fact]
    public async Task EachMapping_LeavesFromItsOwnPort_AndGetsItsOwnReplies()
    {
        var (server, association, session) = await OpenAsync();
        await using (server)
        await using (association)
        {
            await using var echo = UdpResponder.Echo(IPAddress.Loopback);
            await using var one = await association.MapAsync(TestTimeout.Token).Within();
            await using var two = await association.MapAsync(TestTimeout.Token).Within();
            var buffer = new byte[100];

            // Replies sent in the reverse order of the receives that wait for them.
            var receiveTwo = two.ReceiveAsync(new byte[100], TestTimeout.Token).AsTask();
            var receiveOne = one.ReceiveAsync(buffer, TestTimeout.Token).AsTask();
            await two.SendAsync(echo.EndPoint, "from two"u8.ToArray(), TestTimeout.Token).Within();
            await association.SendAsync(echo.EndPoint, "from zero"u8.ToArray(), TestTimeout.Token).Within();
            await one.SendAsync("127.0.0.1", echo.EndPoint.Port, "from one"u8.ToArray(), TestTimeout.Token).Within();

            var gotOne = await receiveOne.Within();
            Assert.Equal("from one", Encoding.ASCII.GetString(buffer, 0, gotOne.Length));
            Assert.Equal(new Socks5Endpoint(IPAddress.Loopback, echo.EndPoint.Port), gotOne.Source);
            Assert.Equal(8, (await receiveTwo.Within()).Length);
            var gotZero = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();
            Assert.Equal("from zero", Encoding.ASCII.GetString(buffer, 0, gotZero.Length));
            Assert.NotEqual(one.OutboundPort, two.OutboundPort);
        }
    }

    [Fact]
    public async Task DatagramsFromTheRelay_AreSortedByRsv_UnknownMappingsDropped()
    {
        var (server, association, session) = await OpenAsync();
        await using (server)
        await using (association)
        {
            await using var one = await association.MapAsync(TestTimeout.Token).Within();
            await using var two = await association.MapAsync(TestTimeout.Token).Within();
            var source = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 53);

            foreach (var (mapping, text) in new (ushort, string)[] { (2, "b1"), (9, "lost"), (0, "z1"), (1, "a1"), (2, "b2"), (0, "z2"), (1, "a2") })
            {
                await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(source, Encoding.ASCII.GetBytes(text), mapping: mapping));
            }

            Assert.Equal(["a1", "a2"], [await ReceiveTextAsync(one.ReceiveAsync), await ReceiveTextAsync(one.ReceiveAsync)]);
            Assert.Equal(["b1", "b2"], [await ReceiveTextAsync(two.ReceiveAsync), await ReceiveTextAsync(two.ReceiveAsync)]);
            Assert.Equal(["z1", "z2"], [await ReceiveTextAsync(association.ReceiveAsync), await ReceiveTextAsync(association.ReceiveAsync)]);
            Assert.Equal(1, association.DroppedDatagrams);
        }
    }

    [Fact]
    public async Task ReceivePendingWhenTheFirstMappingIsMade_EveryoneStillGetsTheirs()
    {
        var (server, association, session) = await OpenAsync();
        await using (server)
        await using (association)
        {
            var source = new IPEndPoint(IPAddress.Loopback, 7);
            var buffer = new byte[100];
            var direct = association.ReceiveAsync(buffer, TestTimeout.Token).AsTask();
            await using var one = await association.MapAsync(TestTimeout.Token).Within();

            await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(source, "for one"u8.ToArray(), mapping: 1));
            Assert.Equal("for one", await ReceiveTextAsync(one.ReceiveAsync));
            await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(source, "for zero"u8.ToArray()));
            Assert.Equal("for zero", Encoding.ASCII.GetString(buffer, 0, (await direct.Within()).Length));
            await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(source, "zero again"u8.ToArray()));
            await session.SendFromRelayAsync(association.LocalEndPoint, FakeSession.Datagram(source, "one again"u8.ToArray(), mapping: 1));
            Assert.Equal("zero again", await ReceiveTextAsync(association.ReceiveAsync));
            Assert.Equal("one again", await ReceiveTextAsync(one.ReceiveAsync));
        }
    }

    [Fact]
    public async Task Unmap_ReleasesItAtTheProxy_AndEndsItsReceives()
    {
        var (server, association, session) = await OpenAsync();
        await using (server)
        await using (association)
        {
            var one = await association.MapAsync(TestTimeout.Token).Within();
            var pending = one.ReceiveAsync(new byte[10], TestTimeout.Token).AsTask();

            await one.UnmapAsync(TestTimeout.Token).Within();

            Assert.Equal(["MAP", "UNMAP map=1"], session.CommandLines);
            Assert.Equal([(ushort)0], session.Mappings);
            Assert.True(one.IsClosed);
            await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.Within());
            await Assert.ThrowsAsync<ObjectDisposedException>(() => one.SendAsync(new IPEndPoint(IPAddress.Loopback, 1), "x"u8.ToArray(), TestTimeout.Token).Within());
            await Assert.ThrowsAsync<ObjectDisposedException>(() => one.UnmapAsync(TestTimeout.Token).Within());
            await one.DisposeAsync().Within();
            Assert.Equal(2, session.CommandLines.Count);
        }
    }

    [Fact]
    public async Task Dispose_Unmaps()
    {
        var (server, association, session) = await OpenAsync();
        await using (server)
        await using (association)
        {
            await using (await association.MapAsync(TestTimeout.Token).Within())
            {
                Assert.Equal([(ushort)0, (ushort)1], session.Mappings);
            }

            Assert.Equal([(ushort)0], session.Mappings);
        }
    }

    [Fact]
    public async Task Dispose_WhenTheProxyDoesNotAnswerUnmap_ReturnsAfterTheGrace_AndTheLateAnswerIsStillTaken()
    {
        var (server, association, session) = await OpenAsync(manual: true, handshakeTimeout: TimeSpan.FromMilliseconds(200));
        await using (server)
        await using (association)
        {
            var map = association.MapAsync(TestTimeout.Token);
            await session.NextCommandAsync();
            await session.WriteAsync("MAP-OK map=1 port=40001\n");
            var one = await map.Within();

            await one.DisposeAsync().Within();

            Assert.True(one.IsClosed);
            Assert.Equal("UNMAP map=1", await session.NextCommandAsync());
            var set = association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 1), 1, cancellationToken: TestTimeout.Token);
            await session.NextCommandAsync();
            await session.WriteAsync("UNMAP-OK map=1\nSET-OK dst=127.0.0.1:1 ttl=1\n");
            Assert.Equal("SET-OK dst=127.0.0.1:1 ttl=1", (await set.Within()).Line);
        }
    }

    [Fact]
    public async Task MapBeyondTheLimit_ThrowsLimit()
    {
        var (server, association, _) = await OpenAsync(maxMappings: 1);
        await using (server)
        await using (association)
        {
            await using var one = await association.MapAsync(TestTimeout.Token).Within();

            var e = await Assert.ThrowsAsync<Socks5CommandException>(() => association.MapAsync(TestTimeout.Token).Within());

            Assert.Equal(CommandVerbs.Map, e.Command);
            Assert.Equal(CommandFailureReason.Limit, e.Reason);
        }
    }

    [Fact]
    public async Task UnmapOfAMappingTheProxyNoLongerHolds_Throws_AndClosesItHere()
    {
        var (server, association, session) = await OpenAsync(manual: true);
        await using (server)
        await using (association)
        {
            var map = association.MapAsync(TestTimeout.Token);
            Assert.Equal("MAP", await session.NextCommandAsync());
            await session.WriteAsync("MAP-OK map=3 port=40003\n");
            var three = await map.Within();
            var unmap = three.UnmapAsync(TestTimeout.Token);
            Assert.Equal("UNMAP map=3", await session.NextCommandAsync());

            await session.WriteAsync("UNMAP-FAILED map=3 reason=invalid\n");

            var e = await Assert.ThrowsAsync<Socks5CommandException>(() => unmap.Within());
            Assert.Equal(CommandFailureReason.Invalid, e.Reason);
            Assert.True(three.IsClosed);
        }
    }

    [Fact]
    public async Task MapOkWithoutANumber_IsAProtocolError()
    {
        var (server, association, session) = await OpenAsync(manual: true);
        await using (server)
        await using (association)
        {
            var map = association.MapAsync(TestTimeout.Token);
            await session.NextCommandAsync();

            await session.WriteAsync("MAP-OK port=40003\n");

            Assert.Equal(Socks5ErrorKind.ProtocolError, (await Assert.ThrowsAsync<Socks5Exception>(() => map.Within())).Kind);
        }
    }

    [Fact]
    public async Task SetTtl_OnAMapping_NamesIt()
    {
        var (server, association, session) = await OpenAsync();
        await using (server)
        await using (association)
        {
            await using var one = await association.MapAsync(TestTimeout.Token).Within();
            var destination = new IPEndPoint(IPAddress.Loopback, 33434);

            var answer = await one.SetTtlAsync(destination, 7, TestTimeout.Token).Within();

            Assert.Equal("SET-OK dst=127.0.0.1:33434 ttl=7 map=1", answer.Line);
            Assert.Equal((ushort)1, answer.Mapping);
            Assert.Equal("SET dst=127.0.0.1:33434 ttl=7 map=1", session.CommandLines[^1]);
            Assert.Equal(new FakeSetting(1, destination, 7), session.Settings[^1]);
        }
    }

    [Fact]
    public async Task AssociationDispose_EndsEveryMapping()
    {
        var (server, association, _) = await OpenAsync();
        await using (server)
        {
            var one = await association.MapAsync(TestTimeout.Token).Within();
            var pendingOne = one.ReceiveAsync(new byte[10], TestTimeout.Token).AsTask();
            var pendingZero = association.ReceiveAsync(new byte[10], TestTimeout.Token).AsTask();

            await association.DisposeAsync().Within();

            await Assert.ThrowsAsync<ObjectDisposedException>(() => pendingOne.Within());
            await Assert.ThrowsAsync<ObjectDisposedException>(() => pendingZero.Within());
            Assert.True(one.IsClosed);
            await one.DisposeAsync().Within();
        }
    }

    [Fact]
    public async Task CancelledMap_IsReleasedWhenItsAnswerComes()
    {
        var (server, association, session) = await OpenAsync(manual: true);
        await using (server)
        await using (association)
        {
            using var cancel = new CancellationTokenSource();
            var map = association.MapAsync(cancel.Token);
            Assert.Equal("MAP", await session.NextCommandAsync());

            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => map.Within());
            await session.WriteAsync("MAP-OK map=5 port=40005\n");

            Assert.Equal("UNMAP map=5", await session.NextCommandAsync());
            await session.WriteAsync("UNMAP-OK map=5\n");
        }
    }

    [Fact]
    public async Task MappingSends_FromManyTasks_AllArrive()
    {
        var (server, association, _) = await OpenAsync();
        await using (server)
        await using (association)
        {
            await using var echo = UdpResponder.Echo(IPAddress.Loopback);
            await using var one = await association.MapAsync(TestTimeout.Token).Within();

            await Task.WhenAll(Enumerable.Range(0, 20).Select(i => one.SendAsync(echo.EndPoint, BitConverter.GetBytes(i), TestTimeout.Token).AsTask())).Within();
            var seen = new HashSet<int>();
            var buffer = new byte[4];
            for (int i = 0; i < 20; i++)
            {
                await one.ReceiveAsync(buffer, TestTimeout.Token).Within();
                seen.Add(BitConverter.ToInt32(buffer));
            }

            Assert.Equal(Enumerable.Range(0, 20), seen.Order());
        }
    }

    private static async Task<string> ReceiveTextAsync(Func<Memory<byte>, CancellationToken, ValueTask<Socks5UdpReceiveResult>> receive)
    {
        var buffer = new byte[100];
        var result = await receive(buffer, TestTimeout.Token).Within();
        return Encoding.ASCII.GetString(buffer, 0, result.Length);
    }
}
