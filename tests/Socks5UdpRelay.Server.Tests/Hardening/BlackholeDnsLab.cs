using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// One network namespace (root) whose resolver never answers: its <c>resolv.conf</c> names
/// 10.53.0.53, an address of the namespace's own loopback where nftables drops DNS. A server
/// started here waits out every lookup of a name not in /etc/hosts, as it would behind a dead
/// nameserver. Also on its loopback: fd00:64::1 (a listener), fd00:64::a and ::b (one /64),
/// fd00:65::a (another /64). Clients are sockets the test creates inside the namespace.
/// </summary>
public sealed partial class BlackholeDnsLab : IAsyncLifetime
{
    public static readonly IPAddress Nameserver = IPAddress.Parse("10.53.0.53");

    private OwnedNamespaces? _owned;

    public string Namespace { get; private set; } = string.Empty;

    public Task InitializeAsync()
    {
        if (Requirements.NetworkNamespacesSkipReason is not null)
        {
            return Task.CompletedTask; // the test skips; nothing to build
        }

        Requirements.EnsureNetworkNamespaces();
        NetnsTopology.DeleteLeftovers();
        _owned = new OwnedNamespaces(NamespaceNames.NextPrefix());
        Namespace = _owned.Prefix + "dnslab";
        _owned.Add(Namespace);

        // Bind-mounted over /etc/resolv.conf for processes started with `ip netns exec` (it must exist first).
        Directory.CreateDirectory(Path.Combine("/etc/netns", Namespace));
        File.WriteAllText(Path.Combine("/etc/netns", Namespace, "resolv.conf"), $"nameserver {Nameserver}\n");
        CommandRunner.RunChecked(["ip", "netns", "exec", Namespace, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.lo.accept_dad=0"]);
        NetnsTopology.RunBatch(Namespace,
        [
            "link set lo up",
            $"addr add {Nameserver}/32 dev lo",
            "addr add fd00:64::1/64 dev lo nodad",
            "addr add fd00:64::a/64 dev lo nodad",
            "addr add fd00:64::b/64 dev lo nodad",
            "addr add fd00:65::a/64 dev lo nodad",
        ]);
        CommandRunner.RunChecked(["ip", "netns", "exec", Namespace, ExternalTools.Resolve("nft"), "-f", "-"], """
            table inet blackhole {
                chain input {
                    type filter hook input priority 0;
                    udp dport 53 drop
                    tcp dport 53 drop
                }
            }

            """);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _owned?.Dispose(); // kills the servers, deletes the namespace and its /etc/netns folder
        return Task.CompletedTask;
    }

    /// <summary>The server, out of process, in the namespace; waits until it listens and returns its SOCKS and (when enabled) metrics endpoints.</summary>
    internal async Task<LabServer> StartServerAsync(IReadOnlyCollection<string> settings, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var process = _owned!.Start(Namespace, [NetnsTopology.DotNetHost, Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll"), .. settings], environment);
        await process.WaitForOutputAsync("Listening for SOCKS5 on ");
        if (settings.Contains("--Metrics:Enabled=true"))
        {
            await process.WaitForOutputAsync("Metrics on http://");
        }
        var socks = IPEndPoint.Parse(ListeningRegex().Match(process.Output).Groups[1].Value.Trim('"', '\\'));
        var metrics = MetricsRegex().Match(process.Output) is { Success: true } m ? IPEndPoint.Parse(m.Groups[1].Value) : null;
        return new LabServer(this, process, socks, metrics);
    }

    public Socket CreateSocket(AddressFamily family, SocketType type, ProtocolType protocol)
        => NetnsTopology.CreateSocketIn(Namespace, family, type, protocol);

    [GeneratedRegex(@"Listening for SOCKS5 on (\S+)")]
    private static partial Regex ListeningRegex();

    [GeneratedRegex(@"Metrics on http://(\S+)/metrics")]
    private static partial Regex MetricsRegex();
}

/// <summary>A server running in <see cref="BlackholeDnsLab"/>.</summary>
internal sealed record LabServer(BlackholeDnsLab Lab, NetnsProcess Process, IPEndPoint Socks, IPEndPoint? Metrics)
{
    /// <summary>Resident memory now (<c>VmRSS</c> of /proc/PID/status), in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (string line in File.ReadLines($"/proc/{Process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{Process.Id}/status has no VmRSS line.");
    }
}
