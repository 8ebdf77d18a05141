using System.Net;
using System.Net.Sockets;
using DnsClient;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Tests.Shared;

/// <summary>
/// Debian's dnsmasq as the DNS server under a test: authoritative for the records given and
/// NXDOMAIN for every other name (<c>--local=/#/</c>: nothing is forwarded anywhere), listening
/// on one address and port, logging each query it receives (<see cref="Queries"/>).
/// </summary>
public sealed class Dnsmasq : IAsyncDisposable
{
    public const string Path = "/usr/sbin/dnsmasq";

    private readonly NetnsProcess _process;

    private Dnsmasq(NetnsProcess process, IPEndPoint endpoint)
    {
        _process = process;
        EndPoint = endpoint;
    }

    /// <summary>Why dnsmasq cannot run here, or null.</summary>
    public static string? Missing => File.Exists(Path) ? null : $"{Path} is not installed (apt-get install dnsmasq-base)";

    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// The questions received so far, in order, as <c>"A name"</c> / <c>"AAAA name"</c>: first a
    /// marker question is asked from this process and awaited in the log, so every question asked
    /// before this call is in the list (the log arrives through a pipe, after the answers).
    /// Loopback only: in a namespace, ask the marker from there and use <see cref="QueriesUpToAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> QueriesAsync()
    {
        string marker = $"marker-{Guid.NewGuid():N}.test";
        await new LookupClient(EndPoint).QueryAsync(marker, QueryType.A).WaitAsync(TestTimeout.Default);
        return await QueriesUpToAsync(marker);
    }

    /// <summary>The questions received up to an A question for <paramref name="marker"/> (awaited), which the test asked last.</summary>
    public async Task<IReadOnlyList<string>> QueriesUpToAsync(string marker)
    {
        await _process.WaitForOutputAsync($"query[A] {marker.TrimEnd('.')} ");
        return Queries;
    }

    private IReadOnlyList<string> Queries =>
        [.. _process.Output.Split('\n')
            .Select(line => line.IndexOf("query[", StringComparison.Ordinal) is >= 0 and var at ? line[(at + 6)..] : null)
            .OfType<string>()
            .Select(q => q.Split(' ') is [var type, var name, ..] ? $"{type.TrimEnd(']')} {name}" : q)];

    /// <summary>
    /// Starts dnsmasq on 127.0.0.1 and a free port of this (the root) namespace. Records are
    /// dnsmasq options such as <c>--host-record=web.svc.cluster.local,10.96.0.10</c>.
    /// </summary>
    public static async Task<Dnsmasq> StartOnLoopbackAsync(params string[] records)
    {
        for (int attempt = 1; ; attempt++)
        {
            var endpoint = new IPEndPoint(IPAddress.Loopback, FreePort());
            var process = NetnsProcess.Start([Path, .. Arguments(endpoint, records)], environment: null);
            try
            {
                await process.WaitForOutputAsync("started, version");
                return new Dnsmasq(process, endpoint);
            }
            catch (TimeoutException) when (attempt < 3 && process.Output.Contains("Address already in use", StringComparison.Ordinal))
            {
                // Another program took the port between the probe and the bind: take another.
                process.Dispose();
            }
            catch
            {
                process.Dispose();
                throw;
            }
        }
    }

    /// <summary>Starts dnsmasq inside <paramref name="ns"/> on <paramref name="address"/>:53; the topology stops it.</summary>
    public static async Task<Dnsmasq> StartInAsync(NetnsTopology topology, string ns, IPAddress address, params string[] records)
    {
        var endpoint = new IPEndPoint(address, 53);
        var process = topology.StartProcess(ns, Path, Arguments(endpoint, records));
        await process.WaitForOutputAsync("started, version");
        return new Dnsmasq(process, endpoint);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static string[] Arguments(IPEndPoint endpoint, string[] records) =>
    [
        // Not --no-daemon: that debug mode serves a TCP connection in the one process, so a client
        // keeping it open (DnsClient pools them) would stall every other query.
        "--keep-in-foreground", "--pid-file=", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
        $"--listen-address={endpoint.Address}", "--bind-interfaces", $"--port={endpoint.Port}",
        "--local=/#/", "--log-queries", "--log-facility=-", .. records,
    ];

    /// <summary>A port free for both UDP and TCP on 127.0.0.1 at the moment of asking.</summary>
    private static int FreePort()
    {
        for (int i = 0; i < 100; i++)
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // TCP has that port: try another.
            }
        }

        throw new InvalidOperationException("No port of 127.0.0.1 was free for both UDP and TCP in 100 tries.");
    }
}
