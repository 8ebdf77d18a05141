using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Gateway.Notices;
using Socks5UdpRelay.Gateway.Packets;
using Socks5UdpRelay.Gateway.Plane;
using Socks5UdpRelay.Gateway.Tests.Fakes;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Gateway.Tests.Host;

/// <summary>
/// Unmodified Debian programs and a plain socket in a namespace, talking through the gateway to a
/// fake uplink: replies arrive, and injected errors are seen exactly as from a real network, under
/// strict (1) and loose (2) reverse-path filtering. Every run ends with the namespace as it was.
/// </summary>
public sealed class GatewayProgramsTests(TopologyFixture fixture) : IClassFixture<TopologyFixture>
{
    private const string TargetV4 = "10.203.0.9";
    private const string TargetV6 = "fd00:203::9";

    [RootTheory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void NcEcho_ComesBackThroughTheDevice(int rpFilter, bool v6)
    {
        using var run = GatewayRun.Start(fixture.Topology, rpFilter);
        long dropsBefore = run.ReversePathDrops();

        var result = Nc(run, ["-u", "-w1", v6 ? TargetV6 : TargetV4, "7"], "hello through the gateway\n");

        Assert.Contains("hello through the gateway", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(dropsBefore, run.ReversePathDrops());
        Assert.True(run.Gateway.Counters.RepliesWritten >= 1);
    }

    [RootTheory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void NcZeroScan_OfARefusedPort_FailsAsAgainstARealClosedPort(int rpFilter, bool v6)
    {
        using var run = GatewayRun.Start(fixture.Topology, rpFilter, FakeUplink.Refusing(555));
        long dropsBefore = run.ReversePathDrops();
        // Debian's nc 1.219 reports a refused UDP port by its exit code alone, even with -v: its second
        // write fails with ECONNREFUSED and it exits 1 without a word. The same scan of a closed port on
        // the namespace's own loopback (the kernel's real port unreachable) is the reference.
        var direct = Nc(run, ["-u", "-z", "-v", "-w1", v6 ? "::1" : "127.0.0.1", "555"]);

        var result = Nc(run, ["-u", "-z", "-v", "-w1", v6 ? TargetV6 : TargetV4, "555"]);

        Assert.Equal(1, direct.ExitCode);
        Assert.Equal((direct.ExitCode, direct.StandardOutput, direct.StandardError), (result.ExitCode, result.StandardOutput, result.StandardError));
        Assert.Contains(NoticeMappingResult.Injected, run.Uplink.NoticeResults);
        Assert.Equal(dropsBefore, run.ReversePathDrops());
    }

    [RootTheory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public void NcZeroScan_OfAnAnsweringPort_Succeeds(int rpFilter, bool v6)
    {
        using var run = GatewayRun.Start(fixture.Topology, rpFilter, FakeUplink.Refusing(555));

        var result = Nc(run, ["-u", "-z", "-v", "-w1", v6 ? TargetV6 : TargetV4, "556"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("succeeded", result.StandardError, StringComparison.Ordinal);
    }

    [RootTheory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void ConnectedSocket_FailsItsSecondOperationWithConnectionRefused(int rpFilter, bool v6)
    {
        using var run = GatewayRun.Start(fixture.Topology, rpFilter, FakeUplink.Refusing(555));
        var family = v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        using var socket = fixture.Topology.CreateSocket(run.Namespace, family, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveTimeout = (int)TestTimeout.Default.TotalMilliseconds;
        socket.Connect(IPAddress.Parse(v6 ? TargetV6 : TargetV4), 555);

        socket.Send("are you there"u8);
        var error = Assert.Throws<SocketException>(() => socket.Receive(new byte[64]));

        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [RootTheory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void Traceroute_ShowsEveryInjectedHopAndTheDestination(int rpFilter, bool v6)
    {
        using var run = GatewayRun.Start(fixture.Topology, rpFilter, FakeUplink.Path(hops: 4));
        string target = v6 ? TargetV6 : TargetV4;

        var result = fixture.Topology.StartProcess(run.Namespace, Programs.Traceroute, [v6 ? "-6" : "-4", "-n", "-q", "1", "-w", "2", "-m", "8", target]);
        Assert.Equal(0, result.WaitForExitAsync().GetAwaiter().GetResult());

        var hops = result.Output.Split('\n').Skip(1).Where(l => l.Trim().Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(["1", "2", "3", "4"], hops.Select(h => h[0]));
        Assert.Equal([FakeUplink.Router(v6, 1), FakeUplink.Router(v6, 2), FakeUplink.Router(v6, 3), target], hops.Select(h => h[1]));
        Assert.Contains(run.Uplink.Seen, s => s.Ttl == 1);
    }

    [RootTheory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void Tracepath_ReportsTheInjectedPathMtu(int rpFilter, bool v6)
    {
        using var run = GatewayRun.Start(fixture.Topology, rpFilter, FakeUplink.Path(hops: 3, mtu: 1280));

        using var process = fixture.Topology.StartProcess(run.Namespace, Programs.Tracepath, [v6 ? "-6" : "-4", "-n", "-m", "6", v6 ? TargetV6 : TargetV4]);
        process.WaitForExitAsync().GetAwaiter().GetResult();

        Assert.Contains($"{FakeUplink.Router(v6, 1)}", process.Output, StringComparison.Ordinal);
        Assert.Contains("pmtu 1280", process.Output, StringComparison.Ordinal);
        // "back" comes from the TTL the destination's error arrived with (rttl 62: 3 hops back), and no
        // hop shows "asymm": each error carried its notice's rttl.
        Assert.Contains("Resume: pmtu 1280 hops 3 back 3", process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("asymm", process.Output, StringComparison.Ordinal);
    }

    [RootTheory]
    [InlineData(false, SocketError.HostUnreachable)] // 3/13: a hard error, EHOSTUNREACH
    [InlineData(true, SocketError.AccessDenied)] // 1/1: EACCES
    public void DeniedDestination_FailsAConnectedSocketAsAdminProhibited(bool v6, SocketError expected)
    {
        using var run = GatewayRun.Start(fixture.Topology, rpFilter: 1, (FakeUplink uplink, FlowId flow, in UdpPacket packet) =>
            uplink.Notice(flow, $"UDP-DENIED dst={NoticeFormat.FormatEndpoint(new IPAddress(packet.DestinationAddress), packet.DestinationPort)} reason=policy"));
        using var socket = fixture.Topology.CreateSocket(run.Namespace, v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveTimeout = (int)TestTimeout.Default.TotalMilliseconds;
        socket.Connect(IPAddress.Parse(v6 ? TargetV6 : TargetV4), 53);

        socket.Send("query"u8);
        var error = Assert.Throws<SocketException>(() => socket.Receive(new byte[64]));

        Assert.Equal(expected, error.SocketErrorCode);
    }

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void ErrorFromTheHostsOwnAddress_IsAMartianOnIPv4Only_SoNoticesComeFromTheDestination(bool v6)
    {
        var local = IPAddress.Parse(v6 ? "fdb5:3535:5353::1" : "169.254.53.53"); // the device's own address
        bool raw = true;
        using var run = GatewayRun.Start(fixture.Topology, rpFilter: 1, (FakeUplink uplink, FlowId flow, in UdpPacket packet) =>
        {
            var destination = packet.GetDestination();
            if (raw)
            {
                // Written as asked, without the mapping's substitution.
                uplink.Gateway!.WriteIcmpError(flow, destination, new IcmpErrorSpec(v6 ? (byte)1 : (byte)3, v6 ? (byte)4 : (byte)3, 0, local, 64));
            }
            else
            {
                uplink.Notice(flow, $"UDP-ERROR dst={NoticeFormat.FormatEndpoint(destination.Address, destination.Port)} error=port-unreachable {(v6 ? "icmp6=1/4" : "icmp=3/3")} from={local}");
            }
        });
        string target = v6 ? TargetV6 : TargetV4;

        var lost = Nc(run, ["-u", "-z", "-v", "-w1", target, "555"]);
        raw = false;
        var substituted = Nc(run, ["-u", "-z", "-v", "-w1", target, "555"]);

        // Measured: IPv4 drops it (nc: "open"); IPv6 delivers it. The mapping substitutes for both.
        Assert.Equal(v6 ? 1 : 0, lost.ExitCode);
        Assert.Equal(1, substituted.ExitCode);
    }

    private CommandResult Nc(GatewayRun run, string[] arguments, string? input = null) =>
        CommandRunner.Run(["ip", "netns", "exec", run.Namespace, ExternalTools.Resolve(Programs.Netcat), .. arguments], input ?? string.Empty);
}
