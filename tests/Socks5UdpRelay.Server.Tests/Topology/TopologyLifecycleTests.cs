using System.Globalization;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>Creation and cleanup of <see cref="NetnsTopology"/>: nothing it made may outlive it, and a dead run's leftovers are swept.</summary>
public sealed class TopologyLifecycleTests
{
    [RootFact]
    public async Task Dispose_DeletesEveryNamespaceHostsDirectoryAndProcess_AndIsIdempotent()
    {
        var topology = NetnsTopology.Create(new NetnsTopologyOptions { KeepDefaultIcmpRateLimits = true });
        var namespaces = topology.Namespaces;
        topology.WriteHosts(topology.RelayNamespace, ["10.201.4.2 target.test"]);
        var process = topology.StartProcess(topology.TargetNamespace, "sh", ["-c", "echo started; exec sleep 60"]);
        await process.WaitForOutputAsync("started");
        Assert.Equal(5, namespaces.Count);
        Assert.All(namespaces, ns => Assert.StartsWith(topology.Prefix, ns, StringComparison.Ordinal));
        Assert.NotEqual("0", topology.Exec(topology.Router1Namespace, "sysctl", "-n", "net.ipv4.icmp_ratelimit").Trim());

        topology.Dispose();
        await topology.DisposeAsync();

        Assert.DoesNotContain(NetnsTopology.ListNamespaces(), ns => ns.StartsWith(topology.Prefix, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine("/etc/netns", topology.RelayNamespace)));
        Assert.False(Directory.Exists($"/proc/{process.Id}/fd"), "a started process outlived the topology");
        Assert.Throws<ObjectDisposedException>(() => topology.Exec(topology.RelayNamespace, "true"));
    }

    [RootFact]
    public void Create_DeletesLeftoversOfDeadRuns_AndKeepsLiveOnes()
    {
        // A pid above pid_max never belongs to a live process.
        var deadPid = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), CultureInfo.InvariantCulture) + 1;
        var leftover = string.Create(CultureInfo.InvariantCulture, $"{NamespaceNames.Marker}{deadPid}x1-relay");
        var live = $"{NamespaceNames.RunPrefix}999999-keep";
        CommandRunner.RunChecked(["ip", "netns", "add", leftover]);
        CommandRunner.RunChecked(["ip", "netns", "add", live]);
        Directory.CreateDirectory(Path.Combine("/etc/netns", leftover));
        try
        {
            using var topology = NetnsTopology.Create();

            var names = NetnsTopology.ListNamespaces();
            Assert.DoesNotContain(leftover, names);
            Assert.False(Directory.Exists(Path.Combine("/etc/netns", leftover)));
            Assert.Contains(live, names);
            Assert.Equal(topology.Namespaces.Order(), names.Where(n => n.StartsWith(topology.Prefix, StringComparison.Ordinal)).Order());
        }
        finally
        {
            CommandRunner.Run(["ip", "netns", "delete", leftover]);
            CommandRunner.Run(["ip", "netns", "delete", live]);
            if (Directory.Exists(Path.Combine("/etc/netns", leftover)))
            {
                Directory.Delete(Path.Combine("/etc/netns", leftover));
            }
        }
    }

    [RootFact]
    public async Task DefaultTopology_TurnsIcmpRateLimitsOffInRoutersAndTarget()
    {
        await using var topology = NetnsTopology.Create();

        foreach (var ns in new[] { topology.Router1Namespace, topology.Router2Namespace, topology.TargetNamespace })
        {
            Assert.Equal("0", topology.Exec(ns, "sysctl", "-n", "net.ipv4.icmp_ratelimit").Trim());
            Assert.Equal("0", topology.Exec(ns, "sysctl", "-n", "net.ipv6.icmp.ratelimit").Trim());
        }
    }
}
