using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Transport;
using Socks5UdpRelay.Server.Transport.Epoll;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Transport;

/// <summary>Several event loops: associations spread over them, each loop counting its own datagrams.</summary>
public sealed class EventLoopSpreadTests
{
    [Fact]
    public void NewAssociations_GoToTheLoopCarryingTheFewest()
    {
        using var transport = new EpollTransport(2, ClientPortAllocator.Any, ErrorSource.Create(), e => throw e, e => throw e);
        var sockets = Enumerable.Range(0, 4).Select(_ => transport.BindClient(IPAddress.Loopback)!).ToList();
        try
        {
            Assert.Equal([2, 2], transport.Loops.Select(l => l.Clients));
            Assert.NotSame(sockets[0].Loop, sockets[1].Loop);

            sockets[0].Dispose();
            sockets[2].Dispose(); // both on the first socket's loop
            Assert.Equal(0, ((ILoopStatistics)sockets[0].Loop).Clients);
            var next = transport.BindClient(IPAddress.Loopback)!;
            sockets.Add(next);
            Assert.Same(sockets[0].Loop, next.Loop);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task TwoLoops_BothCarryDatagrams_AndSayItInTheMetrics()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:EventLoops"] = "2", ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0",
        });
        var endpoint = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        var associations = new List<RawAssociation>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                var association = await RawAssociation.OpenAsync(server.EndPoint);
                associations.Add(association);
                await association.SendToAsync(echo.EndPoint, "ping"u8.ToArray());
                Assert.Equal("ping"u8.ToArray(), (await association.ReceiveAsync()).Payload);
            }

            var threads = new System.Collections.Concurrent.ConcurrentBag<string>();
            foreach (var association in server.Services.GetRequiredService<Server.Control.AssociationRegistry>().Associations)
            {
                await association.Loop.InvokeAsync(() => threads.Add(Thread.CurrentThread.Name!)).Within();
            }

            Assert.Equal(["socks5-udp-0", "socks5-udp-0", "socks5-udp-1", "socks5-udp-1"], threads.Order());

            string text = await RawHttp.GetAsync(endpoint, "/metrics");
            foreach (string loop in new[] { "0", "1" })
            {
                // Each loop read 2 datagrams from clients and 2 replies, and sent as many.
                Assert.Contains($"socks5udprelay_loop_datagrams_total{{loop=\"{loop}\",op=\"read\"}} 4\n", text);
                Assert.Contains($"socks5udprelay_loop_datagrams_total{{loop=\"{loop}\",op=\"sent\"}} 4\n", text);
                Assert.Contains($"socks5udprelay_loop_associations{{loop=\"{loop}\"}} 2\n", text);
            }
        }
        finally
        {
            foreach (var association in associations)
            {
                await association.DisposeAsync();
            }
        }
    }
}
