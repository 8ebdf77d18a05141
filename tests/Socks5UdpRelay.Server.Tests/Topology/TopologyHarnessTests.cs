using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// Proves the topology produces every ICMP error of ICMP-LINUX.md's "Seen in namespaces" table, with
/// plain .NET sockets created in the relay namespace (no SOCKS server involved). Hard errors fault a
/// pending receive on a connected socket; soft ones (3/0, 3/1, 11/0 and their ICMPv6 kin) only with
/// IP_RECVERR. A raw-socket <see cref="IcmpSniffer"/> in the relay checks type, code, offender and MTU.
/// </summary>
public sealed class TopologyHarnessTests : IClassFixture<TopologyFixture>
{
    private const int SolIp = 0;
    private const int IpMtuDiscover = 10;
    private const int SolIpv6 = 41;
    private const int Ipv6MtuDiscover = 23;
    private const int PmtuDiscoverDo = 2;

    private readonly TopologyFixture _fixture;
    private readonly ITestOutputHelper _output;

    public TopologyHarnessTests(TopologyFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        if (Requirements.NetworkNamespacesSkipReason is null)
        {
            fixture.ResetRules();
        }
    }

    private NetnsTopology Topology => _fixture.Topology;

    public static TheoryData<AddressFamily> Families => new() { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 };

    /// <summary>Router1 REJECTs that a plain connected socket reports: family, rule target, expected error, ICMP type/code.</summary>
    public static TheoryData<AddressFamily, string, SocketError, string> HardRejects => new()
    {
        { AddressFamily.InterNetwork, "icmp-port-unreachable", SocketError.ConnectionRefused, "3/3" },
        { AddressFamily.InterNetwork, "icmp-admin-prohibited", SocketError.HostUnreachable, "3/13" },
        { AddressFamily.InterNetwork, "icmp-host-prohibited", SocketError.HostUnreachable, "3/10" },
        { AddressFamily.InterNetwork, "icmp-net-prohibited", SocketError.NetworkUnreachable, "3/9" },
        { AddressFamily.InterNetwork, "icmp-proto-unreachable", SocketError.ProtocolOption, "3/2" },
        { AddressFamily.InterNetworkV6, "icmp6-port-unreachable", SocketError.ConnectionRefused, "1/4" },
        { AddressFamily.InterNetworkV6, "icmp6-adm-prohibited", SocketError.AccessDenied, "1/1" },
    };

    /// <summary>Router1 REJECTs that only IP_RECVERR surfaces.</summary>
    public static TheoryData<AddressFamily, string, SocketError, string> SoftRejects => new()
    {
        { AddressFamily.InterNetwork, "icmp-host-unreachable", SocketError.HostUnreachable, "3/1" },
        { AddressFamily.InterNetwork, "icmp-net-unreachable", SocketError.NetworkUnreachable, "3/0" },
        { AddressFamily.InterNetworkV6, "icmp6-addr-unreachable", SocketError.HostUnreachable, "1/3" },
        { AddressFamily.InterNetworkV6, "icmp6-no-route", SocketError.NetworkUnreachable, "1/0" },
    };

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task ClosedPortOnTarget_FaultsPendingReceive_WithConnectionRefused(AddressFamily family)
    {
        await using var sniffer = IcmpSniffer.Start(Topology, Topology.RelayNamespace, family);
        using var socket = ConnectedUdp(family, Topology.Target.For(family), _fixture.NextPort());

        var (error, elapsed, flow) = await UdpFaults.SendAndAwaitFaultAsync(socket);
        var icmp = await sniffer.WaitForAsync(flow.Local, flow.Remote);

        Report("target closed port", icmp, error, elapsed);
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        Assert.Equal(family == AddressFamily.InterNetwork ? "3/3" : "1/4", icmp.TypeCode);
        Assert.Equal(Topology.Target.For(family), icmp.From);
    }

    [RootTheory]
    [MemberData(nameof(HardRejects))]
    public async Task RouterReject_FaultsPendingReceive(AddressFamily family, string rejectWith, SocketError expected, string typeCode)
    {
        var port = _fixture.NextPort();
        Topology.AddRule(Topology.Router1Namespace, $"{IpTables(family)} -A FORWARD -p udp --dport {port} -j REJECT --reject-with {rejectWith}");
        await using var sniffer = IcmpSniffer.Start(Topology, Topology.RelayNamespace, family);
        using var socket = ConnectedUdp(family, Topology.Target.For(family), port);

        var (error, elapsed, flow) = await UdpFaults.SendAndAwaitFaultAsync(socket);
        var icmp = await sniffer.WaitForAsync(flow.Local, flow.Remote);

        Report($"router1 REJECT {rejectWith}", icmp, error, elapsed);
        Assert.Equal(expected, error.SocketErrorCode);
        Assert.Equal(typeCode, icmp.TypeCode);
        Assert.Equal(Topology.Router1.For(family), icmp.From);
    }

    [RootTheory]
    [MemberData(nameof(SoftRejects))]
    public async Task RouterRejectSoftError_SurfacesOnlyWithRecvErr(AddressFamily family, string rejectWith, SocketError expected, string typeCode)
    {
        var port = _fixture.NextPort();
        Topology.AddRule(Topology.Router1Namespace, $"{IpTables(family)} -A FORWARD -p udp --dport {port} -j REJECT --reject-with {rejectWith}");
        await using var sniffer = IcmpSniffer.Start(Topology, Topology.RelayNamespace, family);
        using var plain = ConnectedUdp(family, Topology.Target.For(family), port);
        using var withRecvErr = ConnectedUdp(family, Topology.Target.For(family), port, recvErr: true);

        // The plain socket's error is sent first over the same path, so once the later one has
        // faulted the RECVERR socket, the plain socket has had every chance to fault too.
        var plainFlow = (plain.LocalEndPoint!, plain.RemoteEndPoint!);
        var plainReceive = plain.ReceiveAsync(new byte[64].AsMemory(), SocketFlags.None).AsTask();
        await plain.SendAsync(UdpFaults.Payload(16), SocketFlags.None);
        var (error, elapsed, flow) = await UdpFaults.SendAndAwaitFaultAsync(withRecvErr);
        var icmpPlain = await sniffer.WaitForAsync(plainFlow.Item1, plainFlow.Item2);
        var icmp = await sniffer.WaitForAsync(flow.Local, flow.Remote);

        Report($"router1 REJECT {rejectWith} (RECVERR)", icmp, error, elapsed);
        Assert.Equal(expected, error.SocketErrorCode);
        Assert.Equal(typeCode, icmp.TypeCode);
        Assert.Equal(typeCode, icmpPlain.TypeCode);
        Assert.Equal(Topology.Router1.For(family), icmp.From);
        Assert.False(plainReceive.IsCompleted, "a soft error faulted a socket without IP_RECVERR");
        Assert.False(plain.Poll(0, SelectMode.SelectError), "a soft error is pending on a socket without IP_RECVERR");
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task UnansweredAddressOnRoutersSubnet_ReportsHostUnreachableAfterNeighbourFailure(AddressFamily family)
    {
        await using var sniffer = IcmpSniffer.Start(Topology, Topology.RelayNamespace, family);
        using var socket = ConnectedUdp(family, Topology.Unanswered.For(family), _fixture.NextPort(), recvErr: true);

        // Inherently slow: the router gives up on ARP/ND after three solicitations a second apart.
        var (error, elapsed, flow) = await UdpFaults.SendAndAwaitFaultAsync(socket);
        var icmp = await sniffer.WaitForAsync(flow.Local, flow.Remote);

        Report("ARP/ND failure at router1 (RECVERR)", icmp, error, elapsed);
        Assert.Equal(SocketError.HostUnreachable, error.SocketErrorCode);
        Assert.Equal(family == AddressFamily.InterNetwork ? "3/1" : "1/3", icmp.TypeCode);
        Assert.Equal(Topology.Router1.For(family), icmp.From);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1), TestTimeout.Default);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task DontFragmentDatagramOverSmallMtuLink_FaultsWithMessageSize(AddressFamily family)
    {
        await using var sniffer = IcmpSniffer.Start(Topology, Topology.RelayNamespace, family);
        using var socket = ConnectedUdp(family, Topology.Target.For(family), TopologyFixture.EchoPort);
        if (family == AddressFamily.InterNetwork)
        {
            socket.SetRawSocketOption(SolIp, IpMtuDiscover, BitConverter.GetBytes(PmtuDiscoverDo));
        }
        else
        {
            socket.SetRawSocketOption(SolIpv6, Ipv6MtuDiscover, BitConverter.GetBytes(PmtuDiscoverDo));
        }

        var (error, elapsed, flow) = await UdpFaults.SendAndAwaitFaultAsync(socket, size: 1400);
        var icmp = await sniffer.WaitForAsync(flow.Local, flow.Remote);

        Report("1400-byte DF datagram over the 1280 link", icmp, error, elapsed);
        Assert.Equal(SocketError.MessageSize, error.SocketErrorCode);
        Assert.Equal(family == AddressFamily.InterNetwork ? "3/4" : "2/0", icmp.TypeCode);
        Assert.Equal((uint)NetnsTopology.SmallMtu, icmp.Info);
        Assert.Equal(Topology.Router1.For(family), icmp.From);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task TtlSetToOneInRouter1_Router2ReportsTimeExceeded(AddressFamily family)
    {
        var port = _fixture.NextPort();
        var match = family == AddressFamily.InterNetwork
            ? $"ip daddr {Topology.Target.V4} udp dport {port} ip ttl set 1"
            : $"ip6 daddr {Topology.Target.V6} udp dport {port} ip6 hoplimit set 1";
        Topology.Nft(Topology.Router1Namespace, $$"""
            table inet s5t_ttl {
                chain forward {
                    type filter hook forward priority 0; policy accept;
                    {{match}}
                }
            }
            """);
        await using var sniffer = IcmpSniffer.Start(Topology, Topology.RelayNamespace, family);
        using var socket = ConnectedUdp(family, Topology.Target.For(family), port, recvErr: true);

        var (error, elapsed, flow) = await UdpFaults.SendAndAwaitFaultAsync(socket);
        var icmp = await sniffer.WaitForAsync(flow.Local, flow.Remote);

        Report("TTL 1 after router1 (RECVERR)", icmp, error, elapsed);
        Assert.Equal(SocketError.HostUnreachable, error.SocketErrorCode);
        Assert.Equal(family == AddressFamily.InterNetwork ? "11/0" : "3/0", icmp.TypeCode);
        Assert.Equal(Topology.Router2.For(family), icmp.From);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task DropInRouter1_ProducesNoError(AddressFamily family)
    {
        var dropped = _fixture.NextPort();
        Topology.AddRule(Topology.Router1Namespace, $"{IpTables(family)} -A FORWARD -p udp --dport {dropped} -j DROP");
        await using var sniffer = IcmpSniffer.Start(Topology, Topology.RelayNamespace, family);
        using var silent = ConnectedUdp(family, Topology.Target.For(family), dropped);
        using var control = ConnectedUdp(family, Topology.Target.For(family), _fixture.NextPort());

        // Without the rule the first datagram would draw a port unreachable from the target. The
        // control datagram, sent after it to another closed port, must come back refused: by then
        // any error for the first would have arrived.
        var silentDestination = silent.RemoteEndPoint!;
        var silentReceive = silent.ReceiveAsync(new byte[64].AsMemory(), SocketFlags.None).AsTask();
        await silent.SendAsync(UdpFaults.Payload(16), SocketFlags.None);
        var (error, elapsed, controlFlow) = await UdpFaults.SendAndAwaitFaultAsync(control);
        await sniffer.WaitForAsync(controlFlow.Local, controlFlow.Remote);

        _output.WriteLine($"DROP: control refused after {elapsed.TotalMilliseconds:F2} ms; ICMP seen: [{string.Join("; ", sniffer.Seen)}]");
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        Assert.False(silentReceive.IsCompleted, "a dropped datagram produced an error");
        Assert.DoesNotContain(sniffer.Seen, e => silentDestination.Equals(e.OriginalDestination));
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task EchoRoundTrip_FromRelayToTarget(AddressFamily family)
    {
        using var socket = ConnectedUdp(family, Topology.Target.For(family), TopologyFixture.EchoPort);
        var payload = Encoding.ASCII.GetBytes($"hello over {family}");
        var buffer = new byte[256];

        var start = Stopwatch.GetTimestamp();
        await socket.SendAsync(payload, SocketFlags.None);
        var received = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(TestTimeout.Default);

        _output.WriteLine($"echo {family}: {Stopwatch.GetElapsedTime(start).TotalMilliseconds:F2} ms");
        Assert.Equal(payload, buffer[..received]);
        Assert.Equal(Topology.RelayEgress.For(family), ((IPEndPoint)socket.LocalEndPoint!).Address);
    }

    [RootFact]
    public void WriteHosts_IsSeenByProcessesInThatNamespace()
    {
        Topology.WriteHosts(Topology.RelayNamespace, [$"{Topology.Target.V4} target.test", $"{Topology.Target.V6} target.test"]);

        var v4 = Topology.Exec(Topology.RelayNamespace, "getent", "ahostsv4", "target.test");
        var v6 = Topology.Exec(Topology.RelayNamespace, "getent", "ahostsv6", "target.test");

        Assert.Contains(Topology.Target.V4.ToString(), v4, StringComparison.Ordinal);
        Assert.Contains(Topology.Target.V6.ToString(), v6, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task StartProcess_RunsInsideTheNamespace_AndDisposeKillsIt()
    {
        var process = Topology.StartProcess(Topology.RelayNamespace, "sh", ["-c", "ip -o addr show; echo ready; exec sleep 60"]);
        await using (process)
        {
            await process.WaitForOutputAsync("ready");

            Assert.Contains($"{Topology.Relay.V4}/24", process.Output, StringComparison.Ordinal);
            Assert.Equal(Topology.RelayNamespace, CommandRunner.RunChecked(["ip", "netns", "identify", $"{process.Id}"]).Trim());
        }

        Assert.False(Directory.Exists($"/proc/{process.Id}/fd"), "the process outlived its handle");
    }

    private Socket ConnectedUdp(AddressFamily family, IPAddress destination, int port, bool recvErr = false) =>
        UdpFaults.ConnectedUdp(Topology, family, destination, port, recvErr);

    private void Report(string row, IcmpError icmp, SocketException error, TimeSpan elapsed) =>
        _output.WriteLine($"{row}: {icmp} -> {error.SocketErrorCode} after {elapsed.TotalMilliseconds:F2} ms");

    private static string IpTables(AddressFamily family) => family == AddressFamily.InterNetwork ? "iptables" : "ip6tables";
}
