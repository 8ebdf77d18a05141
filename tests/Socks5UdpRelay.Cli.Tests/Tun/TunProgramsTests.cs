using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// Debian's programs, unmodified, in the client namespace behind <c>s5nc tun</c> (the real server
/// out of process in the relay namespace), each printing exactly what it prints without a proxy:
/// nc, dig and sockets routed directly through the relay; traceroute and tracepath run in the relay
/// namespace, the proxy's own path. IPv4 and IPv6; the class runs once per reverse-path filter mode.
/// </summary>
public abstract class TunProgramsTests(TunProgramsLab lab)
{
    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void NcEcho_PrintsTheEcho_AsDirect(bool v6)
    {
        var direct = lab.Direct<ProgramOutput>("nc-echo", v6);

        var through = TunChecks.NcEcho(lab, v6);

        Assert.Equal("hi\n", direct.Stdout);
        Assert.Equal(direct, through);
    }

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void NcZeroScan_OfAClosedPort_ExitsOneAsDirect(bool v6)
    {
        // Debian's nc 1.219 prints nothing for a refused UDP port, even with -v: its exit code says it.
        var direct = lab.Direct<ProgramOutput>("nc-closed", v6);

        var through = TunChecks.NcScan(lab, v6, TunLab.ClosedPort);

        Assert.Equal(1, direct.ExitCode);
        Assert.Equal(direct, through);
    }

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void NcZeroScan_OfAnOpenPort_SucceedsAsDirect(bool v6)
    {
        var direct = lab.Direct<ProgramOutput>("nc-open", v6);

        var through = TunChecks.NcScan(lab, v6, TunLab.EchoPort);

        Assert.Equal(0, direct.ExitCode);
        Assert.Contains("succeeded", direct.Stderr, StringComparison.Ordinal);
        Assert.Equal(direct, through);
    }

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConnectedSocket_GetsConnectionRefused_OnItsSecondOperation(bool v6)
    {
        var direct = lab.Direct<SocketOutcome>("socket port-unreachable False", v6);

        var through = TunChecks.Socket(lab, lab.Topology.ClientNamespace, v6, TunLab.ClosedPort, recvErr: false);

        Assert.Equal("ConnectionRefused", direct.SecondOperation);
        Assert.Equal(direct, through);
    }

    [RootTheory]
    [InlineData("port-unreachable", false)]
    [InlineData("port-unreachable", true)]
    [InlineData("host-unreachable", false)]
    [InlineData("host-unreachable", true)]
    [InlineData("net-unreachable", false)]
    [InlineData("net-unreachable", true)]
    [InlineData("admin-prohibited", false)]
    [InlineData("admin-prohibited", true)]
    [InlineData("protocol-unreachable", false)]
    [InlineData("fragmentation-needed", false)]
    [InlineData("fragmentation-needed", true)]
    public void EveryKindOfError_ReachesTheSocketAsDirect_ErrnoWithoutAndReporterWithIpRecvErr(string kind, bool v6)
    {
        var (port, size) = TunProgramsLab.Kinds[kind];
        foreach (bool recvErr in new[] { false, true })
        {
            var direct = lab.Direct<SocketOutcome>($"socket {kind} {recvErr}", v6);
            lab.FlushPathMtus();

            var through = TunChecks.Socket(lab, lab.Topology.ClientNamespace, v6, port, recvErr, size);

            Assert.Equal(direct, through);
            if (recvErr)
            {
                Assert.NotEqual("none", direct.Errno); // with IP_RECVERR every kind shows, the silent ones too
            }
        }

        lab.FlushPathMtus();
    }

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void TtlExceeded_ReachesTheSocket_AsOnTheProxysOwnPath(bool v6)
    {
        foreach (bool recvErr in new[] { false, true })
        {
            var direct = lab.Direct<SocketOutcome>($"socket ttl-exceeded {recvErr}", v6);

            var through = TunChecks.Socket(lab, lab.Topology.ClientNamespace, v6, TunLab.EchoPort, recvErr, ttl: 1);

            Assert.Equal(direct, through);
        }

        Assert.Equal(lab.Topology.Router1.For(v6 ? System.Net.Sockets.AddressFamily.InterNetworkV6 : System.Net.Sockets.AddressFamily.InterNetwork).ToString(),
            lab.Direct<SocketOutcome>("socket ttl-exceeded True", v6).Reporter);
    }

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void DeniedByTheProxy_IsAdminProhibited_FromTheDestination(bool v6)
    {
        var bare = TunChecks.Socket(lab, lab.Topology.ClientNamespace, v6, TunLab.DeniedPort, recvErr: false);
        var detailed = TunChecks.Socket(lab, lab.Topology.ClientNamespace, v6, TunLab.DeniedPort, recvErr: true);

        // The README's table: UDP-DENIED is 3/13 (EHOSTUNREACH) or 1/1 (EACCES), from the destination itself.
        Assert.Equal(v6 ? "AccessDenied" : "HostUnreachable", bare.SecondOperation);
        Assert.Equal(
            new SocketOutcome(v6 ? "AccessDenied" : "HostUnreachable", v6 ? "EACCES" : "EHOSTUNREACH", v6 ? "Icmp6" : "Icmp", v6 ? 1 : 3, v6 ? 1 : 13, lab.Target(v6).ToString()),
            detailed);
    }

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Dig_Answers_AsDirect(bool v6)
    {
        var direct = lab.Direct<ProgramOutput>("dig", v6);

        var through = TunChecks.DigName(lab, v6);

        Assert.Equal((v6 ? TunLab.DnsAnswerV6 : TunLab.DnsAnswerV4) + "\n", direct.Stdout);
        Assert.Equal(direct, through);
    }

    [RootTheory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(false, TunLab.ClosedPort)]
    [InlineData(true, TunLab.ClosedPort)]
    public void Traceroute_ListsTheHopsOfTheProxysPath(bool v6, int? udpPort)
    {
        var direct = TunChecks.TraceRoute(lab, lab.Topology.RelayNamespace, v6, udpPort);

        var through = TunChecks.TraceRoute(lab, lab.Topology.ClientNamespace, v6, udpPort);

        Assert.True(direct.Hops.Count == 3 && direct.Hops[^1].Contains(lab.Target(v6).ToString(), StringComparison.Ordinal), $"direct:\n{direct.Output}");
        Assert.True(direct.Hops.SequenceEqual(through.Hops), $"direct:\n{direct.Output}\nthrough the gateway:\n{through.Output}");
    }

    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tracepath_FindsPmtu1280_AndTheSameHopsAndBackValues(bool v6)
    {
        var direct = TunChecks.TracePath(lab, lab.Topology.RelayNamespace, v6);

        var through = TunChecks.TracePath(lab, lab.Topology.ClientNamespace, v6);

        Assert.Contains($"Resume: pmtu {NetnsTopology.SmallMtu} hops 3 back 3", direct.Lines);
        Assert.True(direct.Lines.SequenceEqual(through.Lines), $"direct:\n{direct.Output}\nthrough the gateway:\n{through.Output}");
    }
}
