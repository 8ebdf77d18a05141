using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// Scale-out the way UDP allows (README, "Several replicas"): TCP reaches any of three replicas
/// through one virtual address that the kernel load-balances (nftables DNAT, as kube-proxy's
/// nftables mode), while each replica advertises its own address and UDP goes straight there. With
/// the client's address preserved (<c>externalTrafficPolicy: Local</c>) thirty clients relay, get
/// notices, and survive the loss of a replica by reconnecting through the virtual address; with
/// source NAT on the virtual address (<c>Cluster</c>) every datagram is refused as RFC 1928 §7 says,
/// and the server says why. Each test builds its own topology and removes it.
/// </summary>
public sealed class ScaleOutTopologyTests(ITestOutputHelper output)
{
    private const int Clients = 30;
    private const int RoundTrips = 20;

    /// <summary>A port nothing listens on at the target: its port unreachable is the notice every client waits for.</summary>
    private const int ClosedPort = 9;

    [RootFact]
    public async Task ThirtyClients_OverThreeReplicas_RelayAndGetNotices_AndSurviveTheLossOfOne()
    {
        await using var lab = await ScaleOutLab.StartAsync(masquerade: false);
        var clients = new List<ScaleOutClient>();
        try
        {
            for (int id = 0; id < Clients; id++)
            {
                clients.Add(await ScaleOutClient.OpenAsync(lab.Topology, id));
            }

            var perReplica = Enumerable.Range(0, ScaleOutTopology.ReplicaCount).Select(r => clients.Count(c => c.Replica == r)).ToArray();
            output.WriteLine($"clients per replica: {string.Join(", ", perReplica.Select((n, r) => $"rep{r + 1} {n}"))}");
            Assert.All(perReplica, n => Assert.True(n > 0, $"the virtual address spread {Clients} connections as {string.Join("/", perReplica)}\n{lab.Topology.ListRules()}"));

            // Everyone relays through its own replica and hears of a closed port from the target.
            int relayed = await RelayAsync(clients, RoundTrips);
            Assert.Equal(Clients * RoundTrips, relayed);
            await Task.WhenAll(clients.Select(ExpectPortUnreachableAsync));

            // The replica with the most clients goes: first out of the load balancer (as an endpoint
            // leaves kube-proxy's rules when its pod starts terminating), then SIGTERM.
            int victim = Array.IndexOf(perReplica, perReplica.Max());
            var leaving = clients.Where(c => c.Replica == victim).ToList();
            var staying = clients.Where(c => c.Replica != victim).ToList();
            using var stopSteady = new CancellationTokenSource();
            var steady = staying.Select(c => SteadyAsync(c, stopSteady.Token)).ToList();
            lab.Topology.LoadBalance([.. Enumerable.Range(0, ScaleOutTopology.ReplicaCount).Where(r => r != victim)], masquerade: false);
            long terminated = Stopwatch.GetTimestamp();
            lab.Replicas[victim].Terminate();

            var moves = await Task.WhenAll(leaving.Select(c => ReconnectAsync(lab, c, terminated, victim)));
            int exit = await lab.Replicas[victim].WaitForExitAsync(ScaleOutLab.GracePeriod + TimeSpan.FromSeconds(5));
            double exited = Millis.Since(terminated);
            await stopSteady.CancelAsync();
            var survivors = await Task.WhenAll(steady);

            Assert.Equal(0, exit);
            Assert.All(moves, m => Assert.NotEqual(victim, m.Client.Replica));
            Assert.Equal(leaving.Count * RoundTrips, moves.Sum(m => m.Relayed));
            Assert.Equal(0, survivors.Sum(s => s.Lost));
            Assert.True(survivors.Sum(s => s.Relayed) >= staying.Count, "every staying client relayed during the shutdown");
            foreach (var client in staying)
            {
                Assert.False(client.Association.Closed.IsCompleted, $"client {client.Id} on rep{client.Replica + 1} lost its association");
                Assert.DoesNotContain(client.Drain(), n => n.Verb == NoticeVerbs.Closing);
            }

            output.WriteLine($"datagrams relayed: {relayed} before the loss ({Clients} x {RoundTrips}, 0 lost); "
                + $"{survivors.Sum(s => s.Relayed)} by the {staying.Count} staying clients during the shutdown, {survivors.Sum(s => s.Lost)} lost; "
                + $"{moves.Sum(m => m.Relayed)} by the {leaving.Count} moved clients after reconnecting");
            output.WriteLine($"rep{victim + 1} (SIGTERM): CLOSING reason=shutdown at {Millis.Summary(moves.Select(m => m.ClosingAfter).ToList())} after the signal; exit 0 after {exited:F0} ms");
            output.WriteLine($"reconnect (CLOSING to the first echo through the new replica): {Millis.Summary(moves.Select(m => m.Reconnect).ToList())}; "
                + $"moved to: {string.Join(", ", moves.GroupBy(m => m.Client.Replica).OrderBy(g => g.Key).Select(g => $"rep{g.Key + 1} {g.Count()}"))}");
            clients.AddRange(moves.Select(m => m.Client));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [RootFact]
    public async Task SourceNatOnTheVirtualAddress_EveryDatagramIsRefused_AndTheServerSaysWhy()
    {
        await using var lab = await ScaleOutLab.StartAsync(masquerade: true);
        await using var client = await ScaleOutClient.OpenAsync(lab.Topology, 0);
        var gateway = ScaleOutTopology.ReplicaGateway(client.Replica);

        await client.Association.SendAsync(ScaleOutLab.EchoEndPoint, "through source NAT"u8.ToArray());

        var notice = await client.NextNoticeAsync();
        Assert.Equal(
            $"UDP-DENIED dst={ScaleOutLab.EchoEndPoint} reason=source-mismatch from={ScaleOutTopology.Client} expected={gateway}",
            notice.Line);
        Assert.Equal(0, lab.Echo.Received);
        var server = lab.Replicas[client.Replica];
        await server.WaitForOutputAsync($"UDP datagrams for its association come from {ScaleOutTopology.Client}, not from its control connection's address {gateway}");
        Assert.Contains("[WRN]", server.Output.Split('\n').Single(l => l.Contains("not from its control connection's address", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("socks5udprelay_udp_source_mismatch_total 1\n", await lab.MetricsAsync(client.Replica));
        output.WriteLine($"with source NAT: {notice.Line}");
    }

    [RootFact]
    public async Task ClientOutsideTheAllowList_IsClosedUnanswered_AndTheRefusalIsLogged()
    {
        await using var lab = await ScaleOutLab.StartAsync(masquerade: false);
        using var socket = lab.Topology.CreateSocket(lab.Topology.OutsiderNamespace, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        await socket.ConnectAsync(new IPEndPoint(ScaleOutTopology.Replica(0), ScaleOutTopology.SocksPort), timeout.Token);
        await socket.SendAsync(new byte[] { 0x05, 0x01, 0x00 }, SocketFlags.None, timeout.Token);

        byte[] buffer = new byte[2];
        int read;
        try
        {
            read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            read = 0;
        }

        Assert.Equal(0, read);
        await lab.Replicas[0].WaitForOutputAsync($"[INF] Socks5UdpRelay.Server.Control.Socks5Listener: {ScaleOutTopology.Outsider}:");
        Assert.Contains("connection refused: not in Policy:AllowClients", lab.Replicas[0].Output, StringComparison.Ordinal);
    }

    private static async Task<int> RelayAsync(IEnumerable<ScaleOutClient> clients, int count)
    {
        var results = await Task.WhenAll(clients.Select(async c =>
        {
            int ok = 0;
            for (int i = 0; i < count; i++)
            {
                ok += await c.RoundTripAsync(ScaleOutLab.EchoEndPoint) ? 1 : 0;
            }

            return ok;
        }));
        return results.Sum();
    }

    private static async Task ExpectPortUnreachableAsync(ScaleOutClient client)
    {
        var closed = new IPEndPoint(ScaleOutTopology.Target, ClosedPort);
        await client.Association.SendAsync(closed, "anyone?"u8.ToArray());
        var notice = await client.NextNoticeAsync();
        Assert.Equal(NoticeVerbs.UdpError, notice.Verb);
        Assert.Equal(closed.ToString(), notice.Destination);
        Assert.Equal(UdpErrorKind.PortUnreachable, notice.ErrorKind);
        Assert.Equal(ScaleOutTopology.Target, notice.From);
    }

    /// <summary>Round trips without pause until stopped: what a staying client relays, and loses, while another replica shuts down.</summary>
    private static async Task<(int Relayed, int Lost)> SteadyAsync(ScaleOutClient client, CancellationToken stop)
    {
        int relayed = 0, lost = 0;
        while (!stop.IsCancellationRequested)
        {
            if (await client.RoundTripAsync(ScaleOutLab.EchoEndPoint))
            {
                relayed++;
            }
            else
            {
                lost++;
            }
        }

        return (relayed, lost);
    }

    /// <summary>A client of the leaving replica: told <c>CLOSING reason=shutdown</c>, then its association ends; it opens a new one through the virtual address and relays again.</summary>
    private static async Task<(ScaleOutClient Client, double ClosingAfter, double Reconnect, int Relayed)> ReconnectAsync(ScaleOutLab lab, ScaleOutClient old, long terminated, int victim)
    {
        var closing = await old.NextNoticeAsync();
        Assert.Equal("CLOSING reason=shutdown", closing.Line);
        double closingAfter = Millis.Since(terminated);
        long told = Stopwatch.GetTimestamp();
        await old.Association.Closed.WaitAsync(TestTimeout.Default);
        await old.DisposeAsync();

        var fresh = await ScaleOutClient.OpenAsync(lab.Topology, old.Id);
        Assert.NotEqual(victim, fresh.Replica);
        Assert.True(await fresh.RoundTripAsync(ScaleOutLab.EchoEndPoint));
        double reconnect = Millis.Since(told);
        int relayed = 1;
        for (int i = 1; i < RoundTrips; i++)
        {
            relayed += await fresh.RoundTripAsync(ScaleOutLab.EchoEndPoint) ? 1 : 0;
        }

        return (fresh, closingAfter, reconnect, relayed);
    }
}
