using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// <see cref="ScaleOutTopology"/> with its programs running: the real server as its own process in
/// each replica namespace, configured as the shipped manifests configure a pod (its own address
/// advertised, a client allow-list, a short grace period, metrics on the namespace's loopback),
/// and a UDP echo on the target.
/// </summary>
internal sealed class ScaleOutLab : IAsyncDisposable
{
    public const int EchoPort = 7;
    private const int MetricsPort = 9180;

    private ScaleOutLab(ScaleOutTopology topology, NetnsProcess[] replicas, UdpResponder echo)
    {
        Topology = topology;
        Replicas = replicas;
        Echo = echo;
    }

    public ScaleOutTopology Topology { get; }

    /// <summary>The server processes, by replica.</summary>
    public NetnsProcess[] Replicas { get; }

    public UdpResponder Echo { get; }

    public static IPEndPoint EchoEndPoint { get; } = new(ScaleOutTopology.Target, EchoPort);

    public static TimeSpan GracePeriod { get; } = TimeSpan.FromSeconds(5);

    public static async Task<ScaleOutLab> StartAsync(bool masquerade)
    {
        var topology = ScaleOutTopology.Create();
        try
        {
            if (masquerade)
            {
                topology.LoadBalance([.. Enumerable.Range(0, ScaleOutTopology.ReplicaCount)], masquerade: true);
            }

            var echo = UdpResponder.EchoOn(topology.CreateSocket(topology.TargetNamespace, AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp), EchoPort);
            var dll = Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll");
            var replicas = Enumerable.Range(0, ScaleOutTopology.ReplicaCount).Select(i => topology.StartDotNet(topology.ReplicaNamespace(i), dll,
            [
                $"--Relay:Listen:0={ScaleOutTopology.Replica(i)}:{ScaleOutTopology.SocksPort}",
                $"--Relay:AdvertisedAddress:0={ScaleOutTopology.Replica(i)}",
                "--Policy:AllowClients:0=10.210.1.0/24",
                // What a Cluster-mode Service's source NAT turns every client into: admitted, so the mismatch shows on UDP.
                $"--Policy:AllowClients:1={ScaleOutTopology.ReplicaGateway(i)}/32",
                string.Create(CultureInfo.InvariantCulture, $"--Relay:ShutdownGracePeriod={GracePeriod:c}"),
                "--Metrics:Enabled=true",
                $"--Metrics:Listen=127.0.0.1:{MetricsPort}",
            ])).ToArray();
            for (int i = 0; i < replicas.Length; i++)
            {
                await replicas[i].WaitForOutputAsync($"Listening for SOCKS5 on {ScaleOutTopology.Replica(i)}:{ScaleOutTopology.SocksPort}");
            }

            return new ScaleOutLab(topology, replicas, echo);
        }
        catch
        {
            topology.Dispose();
            throw;
        }
    }

    /// <summary><c>GET /metrics</c> from replica <paramref name="i"/>'s own loopback, where its endpoint listens.</summary>
    public async Task<string> MetricsAsync(int i)
    {
        using var socket = Topology.CreateSocket(Topology.ReplicaNamespace(i), AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, MetricsPort), timeout.Token);
        await socket.SendAsync("GET /metrics HTTP/1.1\r\nHost: replica\r\n\r\n"u8.ToArray(), SocketFlags.None, timeout.Token);
        var response = new MemoryStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            response.Write(buffer, 0, n);
        }

        return Encoding.UTF8.GetString(response.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await Echo.DisposeAsync();
        Topology.Dispose();
    }
}
