using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;
using Xunit.Abstractions;
using static Socks5UdpRelay.Server.Tests.Topology.RelayNoticeProbe;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// The errno-only fallback (<c>--Relay:ErrorQueue=off</c>), as the README ("Notices") describes it: the kind
/// comes from the errno of the failed operation alone, so notices carry no <c>icmp</c>,
/// <c>icmp6</c>, <c>from</c> or <c>mtu</c>; an IPv4 admin-prohibited shows as host-unreachable; and
/// soft errors (3/1, 3/0, 11/0 and ICMPv6 1/3, 1/0, 3/0 here) are not told at all.
/// </summary>
public sealed class RelayErrnoOnlyTopologyTests : IClassFixture<ErrnoOnlyRelayTopologyFixture>
{
    private readonly ErrnoOnlyRelayTopologyFixture _fixture;
    private readonly ITestOutputHelper _output;

    public RelayErrnoOnlyTopologyTests(ErrnoOnlyRelayTopologyFixture fixture, ITestOutputHelper output)
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

    /// <summary>Router1 REJECTs that the errno alone reports: family, --reject-with, kind, errno.</summary>
    public static TheoryData<AddressFamily, string, string, string> HardRejects => new()
    {
        { AddressFamily.InterNetwork, "icmp-admin-prohibited", "host-unreachable", "EHOSTUNREACH" },
        { AddressFamily.InterNetwork, "icmp-net-prohibited", "net-unreachable", "ENETUNREACH" },
        { AddressFamily.InterNetworkV6, "icmp6-adm-prohibited", "admin-prohibited", "EACCES" },
    };

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task ClosedPortOnTarget_NoticesPortUnreachableWithErrnoOnly(AddressFamily family)
    {
        var row = $"errno only: target port closed, {Name(family)}";
        var target = Topology.Target.For(family);
        var port = _fixture.NextPort();
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(target, port), row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(UdpError(Endpoint(target, port), "port-unreachable", "ECONNREFUSED"), notice);
        await AssertEchoAsync(association, target, row);
    }

    [RootTheory]
    [MemberData(nameof(HardRejects))]
    public async Task RouterReject_NoticesKindFromErrnoAlone(AddressFamily family, string rejectWith, string kind, string errno)
    {
        var row = $"errno only: router1 REJECT {rejectWith}, {Name(family)}";
        var target = Topology.Target.For(family);
        var port = _fixture.NextPort();
        Topology.AddRule(Topology.Router1Namespace, $"{IpTables(family)} -A FORWARD -p udp --dport {port} -j REJECT --reject-with {rejectWith}");
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(target, port), row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(UdpError(Endpoint(target, port), kind, errno), notice);
        await AssertEchoAsync(association, target, row);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task DatagramOverSmallMtuLink_NoticesFragmentationNeededWithoutMtu(AddressFamily family)
    {
        var row = $"errno only: 1400 bytes over the 1280-MTU link, {Name(family)}";
        var target = Topology.Target.For(family);
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(target, RelayTopologyFixture.EchoPort), row, size: 1400);

        Report(_output, row, elapsed, notice);
        AssertUdpError(UdpError(Endpoint(target, RelayTopologyFixture.EchoPort), "fragmentation-needed", "EMSGSIZE"), notice);
        await AssertEchoAsync(association, target, row);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task TtlExceeded_IsNotNoticed(AddressFamily family)
    {
        // 11/0 (ICMPv6 3/0) is a soft error too. Router1 sets the TTL to 1 for one port, so router2
        // answers time exceeded; a datagram to a closed port of the target follows, and the first
        // notice must be that one's.
        var row = $"errno only: TTL/hop limit 1 after router1, then target port closed, {Name(family)}";
        var target = Topology.Target.For(family);
        var expiring = _fixture.NextPort();
        var closed = _fixture.NextPort();
        var match = family == AddressFamily.InterNetwork
            ? $"ip daddr {Topology.Target.V4} udp dport {expiring} counter ip ttl set 1"
            : $"ip6 daddr {Topology.Target.V6} udp dport {expiring} counter ip6 hoplimit set 1";
        Topology.Nft(Topology.Router1Namespace, $$"""
            table inet s5t_ttl {
                chain forward {
                    type filter hook forward priority 0; policy accept;
                    {{match}}
                }
            }
            """);
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(
            association,
            async () =>
            {
                await association.SendAsync(new IPEndPoint(target, expiring), Payload(16));
                await association.SendAsync(new IPEndPoint(target, closed), Payload(16));
            },
            row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(UdpError(Endpoint(target, closed), "port-unreachable", "ECONNREFUSED"), notice);
        Assert.Equal(1, NftCounterPackets(Topology, Topology.Router1Namespace, "s5t_ttl"));
        await AssertEchoAsync(association, target, row);
    }

    [RootTheory]
    [InlineData(AddressFamily.InterNetwork, "icmp-host-unreachable")]
    [InlineData(AddressFamily.InterNetwork, "icmp-net-unreachable")]
    [InlineData(AddressFamily.InterNetworkV6, "icmp6-addr-unreachable")]
    [InlineData(AddressFamily.InterNetworkV6, "icmp6-no-route")]
    public async Task RouterRejectHostOrNetUnreachable_IsNotNoticed(AddressFamily family, string rejectWith)
    {
        // A soft error never reaches a socket without IP_RECVERR. Silence is proved by order: the
        // rejected datagram goes first, a datagram to a closed port of the target next, and the
        // first notice must be that one's.
        var row = $"errno only: router1 REJECT {rejectWith}, then target port closed, {Name(family)}";
        var target = Topology.Target.For(family);
        var rejected = _fixture.NextPort();
        var closed = _fixture.NextPort();
        Topology.AddRule(Topology.Router1Namespace, $"{IpTables(family)} -A FORWARD -p udp --dport {rejected} -j REJECT --reject-with {rejectWith}");
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(
            association,
            async () =>
            {
                await association.SendAsync(new IPEndPoint(target, rejected), Payload(16));
                await association.SendAsync(new IPEndPoint(target, closed), Payload(16));
            },
            row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(UdpError(Endpoint(target, closed), "port-unreachable", "ECONNREFUSED"), notice);
        Assert.Equal(1, ForwardRulePackets(Topology, Topology.Router1Namespace, family, rejected));
        await AssertEchoAsync(association, target, row);
    }
}
