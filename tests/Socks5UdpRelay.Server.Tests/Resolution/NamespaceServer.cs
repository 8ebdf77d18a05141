using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>
/// The real server, out of process, inside one namespace of a topology, listening on that
/// namespace's 127.0.0.1: there <c>ip netns exec</c> shows it the namespace's own
/// <c>/etc/netns/NAME/resolv.conf</c> (and hosts), so it resolves as a process on that host would.
/// Associations are opened from the same namespace.
/// </summary>
internal sealed partial class NamespaceServer
{
    private NamespaceServer(NetnsTopology topology, string ns, NetnsProcess process, int port)
    {
        Topology = topology;
        Namespace = ns;
        Process = process;
        Port = port;
    }

    public NetnsTopology Topology { get; }

    public string Namespace { get; }

    /// <summary>The server process: its pid for /proc, its output (the log) for failure messages.</summary>
    public NetnsProcess Process { get; }

    public int Port { get; }

    /// <summary>Writes <c>/etc/netns/{ns}/resolv.conf</c>; it must exist before a process starts in the namespace to be bind-mounted for it.</summary>
    public static void WriteResolvConf(string ns, string text)
    {
        var directory = Path.Combine("/etc/netns", ns);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "resolv.conf"), text);
    }

    /// <summary>Starts the server in <paramref name="ns"/> with notices unthrottled and <paramref name="settings"/> (<c>--Key=value</c>); the topology stops it.</summary>
    public static async Task<NamespaceServer> StartAsync(NetnsTopology topology, string ns, params string[] settings)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll");
        var process = topology.StartDotNet(ns, dll,
        [
            "--Relay:Listen:0=127.0.0.1:0",
            "--Relay:NoticeBurst=1000",
            "--Relay:NoticesPerSecond=1000",
            "--Relay:NoticeQueueLength=1024",
            .. settings,
        ]);
        await process.WaitForOutputAsync("Listening for SOCKS5 on 127.0.0.1:");
        int port = int.Parse(ListeningRegex().Match(process.Output).Groups[1].Value, CultureInfo.InvariantCulture);
        return new NamespaceServer(topology, ns, process, port);
    }

    /// <summary>An association from inside the namespace, past its first notice (<c>NOTICES version=1</c>).</summary>
    public async Task<Socks5UdpAssociation> OpenAssociationAsync()
    {
        var association = await Socks5UdpAssociation.OpenAsync(new Socks5ProxyOptions
        {
            Host = "127.0.0.1",
            Port = Port,
            SocketFactory = (family, type, protocol) => Topology.CreateSocket(Namespace, family, type, protocol),
        }).WaitAsync(TestTimeout.Default);
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        var first = await association.Notices.ReadAsync(timeout.Token);
        return first.Line == "NOTICES version=1 commands=set,map"
            ? association
            : throw new InvalidOperationException($"The first notice was `{first.Line}`.");
    }

    /// <summary>The server's thread count now (<c>Threads:</c> of /proc/PID/status).</summary>
    public int Threads()
    {
        foreach (string line in File.ReadLines($"/proc/{Process.Id}/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                return int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{Process.Id}/status has no Threads line.");
    }

    [GeneratedRegex(@"Listening for SOCKS5 on 127\.0\.0\.1:([0-9]+)")]
    private static partial Regex ListeningRegex();
}
