using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;
using Xunit.Abstractions;
using static Socks5UdpRelay.Server.Tests.Topology.RelayNoticeProbe;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// Issue #4: every ICMP error row of ICMP-LINUX.md, provoked through the real server running in the
/// relay namespace and observed where it matters, at a SOCKS client in the client namespace: each
/// draws exactly one <c>UDP-ERROR</c> notice with the kind, errno, ICMP type/code, offender and MTU
/// the kernel's error queue gave, and the association goes on relaying to the target's echo.
/// Each test opens its own association on the class's one server and prints its send-to-notice
/// delay. The router-has-no-route rows live in <see cref="RelayNoRouteTopologyTests"/> (router1's
/// 3/0 shares a token bucket with every other error it sends the relay).
/// </summary>
public sealed class RelayIcmpTopologyTests : IClassFixture<RelayTopologyFixture>
{
    private readonly RelayTopologyFixture _fixture;
    private readonly ITestOutputHelper _output;

    public RelayIcmpTopologyTests(RelayTopologyFixture fixture, ITestOutputHelper output)
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

    /// <summary>Router1 REJECTs: family, rule's --reject-with, kind, errno (as the kernel converts the ICMP), ICMP type/code.</summary>
    public static TheoryData<AddressFamily, string, string, string, string> RouterRejects => new()
    {
        { AddressFamily.InterNetwork, "icmp-port-unreachable", "port-unreachable", "ECONNREFUSED", "3/3" },
        { AddressFamily.InterNetwork, "icmp-admin-prohibited", "admin-prohibited", "EHOSTUNREACH", "3/13" },
        { AddressFamily.InterNetwork, "icmp-host-prohibited", "admin-prohibited", "EHOSTUNREACH", "3/10" },
        { AddressFamily.InterNetwork, "icmp-net-prohibited", "admin-prohibited", "ENETUNREACH", "3/9" },
        { AddressFamily.InterNetwork, "icmp-host-unreachable", "host-unreachable", "EHOSTUNREACH", "3/1" },
        { AddressFamily.InterNetwork, "icmp-net-unreachable", "net-unreachable", "ENETUNREACH", "3/0" },
        { AddressFamily.InterNetwork, "icmp-proto-unreachable", "protocol-unreachable", "ENOPROTOOPT", "3/2" },
        { AddressFamily.InterNetworkV6, "icmp6-port-unreachable", "port-unreachable", "ECONNREFUSED", "1/4" },
        { AddressFamily.InterNetworkV6, "icmp6-adm-prohibited", "admin-prohibited", "EACCES", "1/1" },
        { AddressFamily.InterNetworkV6, "icmp6-addr-unreachable", "host-unreachable", "EHOSTUNREACH", "1/3" },
        { AddressFamily.InterNetworkV6, "icmp6-no-route", "net-unreachable", "ENETUNREACH", "1/0" },
    };

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task ClosedPortOnTarget_NoticesPortUnreachableFromTarget(AddressFamily family)
    {
        var row = $"target port closed, {Name(family)}";
        var target = Topology.Target.For(family);
        var port = _fixture.NextPort();
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(target, port), row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(
            UdpError(Endpoint(target, port), "port-unreachable", "ECONNREFUSED", family, family == AddressFamily.InterNetwork ? "3/3" : "1/4", target),
            notice);
        await AssertEchoAsync(association, target, row);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task RepeatedSendsToClosedPort_EachDrawsItsOwnNotice(AddressFamily family)
    {
        // The error of one datagram must not swallow the next one (a send failing on the earlier
        // error is retried): three sends, three notices.
        var target = Topology.Target.For(family);
        var destination = new IPEndPoint(target, _fixture.NextPort());
        await using var association = await _fixture.OpenAssociationAsync();

        for (var i = 1; i <= 3; i++)
        {
            var row = $"target port closed, send {i}, {Name(family)}";
            var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, destination, row);

            Report(_output, row, elapsed, notice);
            Assert.Equal("port-unreachable", notice["error"]);
            Assert.Equal(Endpoint(target, destination.Port), notice.Destination);
        }

        await AssertEchoAsync(association, target, $"three port unreachables, {Name(family)}");
    }

    [RootTheory]
    [MemberData(nameof(RouterRejects))]
    public async Task RouterReject_NoticesErrorFromRouter1(AddressFamily family, string rejectWith, string kind, string errno, string typeCode)
    {
        var row = $"router1 REJECT {rejectWith}, {Name(family)}";
        var target = Topology.Target.For(family);
        var port = _fixture.NextPort();
        Topology.AddRule(Topology.Router1Namespace, $"{IpTables(family)} -A FORWARD -p udp --dport {port} -j REJECT --reject-with {rejectWith}");
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(target, port), row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(UdpError(Endpoint(target, port), kind, errno, family, typeCode, Topology.Router1.For(family)), notice);
        await AssertEchoAsync(association, target, row);
    }

    /// <summary>
    /// The codes iptables cannot send, through nftables' numeric <c>reject with icmp N</c> /
    /// <c>icmpv6 N</c>: family, code, kind (the README's table; unlisted codes are <c>unknown</c>),
    /// errno (icmp_err_convert / icmpv6_err_convert).
    /// </summary>
    public static TheoryData<AddressFamily, int, string, string> NftRejects => new()
    {
        { AddressFamily.InterNetwork, 5, "unknown", "EOPNOTSUPP" },
        { AddressFamily.InterNetwork, 6, "net-unreachable", "ENETUNREACH" },
        { AddressFamily.InterNetwork, 7, "host-unreachable", "EHOSTDOWN" },
        { AddressFamily.InterNetwork, 8, "unknown", "ENONET" },
        { AddressFamily.InterNetwork, 11, "net-unreachable", "ENETUNREACH" },
        { AddressFamily.InterNetwork, 12, "host-unreachable", "EHOSTUNREACH" },
        { AddressFamily.InterNetworkV6, 2, "unknown", "EHOSTUNREACH" },
        { AddressFamily.InterNetworkV6, 5, "admin-prohibited", "EACCES" },
        { AddressFamily.InterNetworkV6, 6, "admin-prohibited", "EACCES" },
    };

    [RootTheory]
    [MemberData(nameof(NftRejects))]
    public async Task RouterRejectWithAnyCode_NoticesKindFromTheTable(AddressFamily family, int code, string kind, string errno)
    {
        var v4 = family == AddressFamily.InterNetwork;
        var typeCode = $"{(v4 ? 3 : 1)}/{code}";
        var row = $"router1 nft reject {(v4 ? "icmp" : "icmpv6")} {typeCode}, {Name(family)}";
        var target = Topology.Target.For(family);
        var port = _fixture.NextPort();
        Topology.Nft(Topology.Router1Namespace, $$"""
            table {{(v4 ? "ip" : "ip6")}} s5t_reject {
                chain forward {
                    type filter hook forward priority 0; policy accept;
                    {{(v4 ? "ip" : "ip6")}} daddr {{target}} udp dport {{port}} reject with {{(v4 ? "icmp" : "icmpv6")}} {{code}}
                }
            }
            """);
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(target, port), row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(UdpError(Endpoint(target, port), kind, errno, family, typeCode, Topology.Router1.For(family)), notice);
        await AssertEchoAsync(association, target, row);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task UnansweredAddressOnRouter1sSubnet_NoticesHostUnreachableAfterNeighbourFailure(AddressFamily family)
    {
        var row = $"no ARP/ND answer at router1, {Name(family)}";
        var unanswered = Topology.Unanswered.For(family);
        var port = _fixture.NextPort();
        await using var association = await _fixture.OpenAssociationAsync();

        // Inherently slow: router1 gives up on ARP/ND after three solicitations a second apart.
        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(unanswered, port), row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(
            UdpError(Endpoint(unanswered, port), "host-unreachable", "EHOSTUNREACH", family, family == AddressFamily.InterNetwork ? "3/1" : "1/3",
                Topology.Router1.For(family)),
            notice);
        await AssertEchoAsync(association, Topology.Target.For(family), row);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task DatagramOverSmallMtuLink_NoticesFragmentationNeededWithMtu(AddressFamily family)
    {
        // 1400 bytes fit the client's and the relay's 1500-byte links but not router1's 1280-byte
        // far link. The relay's destination socket leaves DF set (Linux's default, IP_PMTUDISC_WANT),
        // so router1 answers 3/4 (ICMPv6 2/0: routers never fragment IPv6) with the MTU.
        // Sent to the echo port, so nothing but the size stands in its way.
        var row = $"1400 bytes over the 1280-MTU link, {Name(family)}";
        var target = Topology.Target.For(family);
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(target, RelayTopologyFixture.EchoPort), row, size: 1400);

        Report(_output, row, elapsed, notice);
        AssertUdpError(
            UdpError(Endpoint(target, RelayTopologyFixture.EchoPort), "fragmentation-needed", "EMSGSIZE", family,
                family == AddressFamily.InterNetwork ? "3/4" : "2/0", Topology.Router1.For(family), mtu: NetnsTopology.SmallMtu),
            notice);

        // The relay's kernel now knows the path MTU and, under IP_PMTUDISC_WANT, fragments the same
        // datagram itself: it reaches the target, with no further notice. (Its echo may not come
        // back: the target learns the MTU only from router2's answer to that reply.) A small echo
        // sent after it, over the same path, shows when it has arrived.
        var received = _fixture.Echo.Received;
        await association.SendAsync(new IPEndPoint(target, RelayTopologyFixture.EchoPort), Payload(1400));
        await AssertEchoAsync(association, target, row, skipLargerThan: 1000);
        Assert.Equal(received + 2, _fixture.Echo.Received);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task TtlSetToOneInRouter1_NoticesTtlExceededFromRouter2(AddressFamily family)
    {
        var row = $"TTL/hop limit 1 after router1, {Name(family)}";
        var target = Topology.Target.For(family);
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
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(target, port), row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(
            UdpError(Endpoint(target, port), "ttl-exceeded", "EHOSTUNREACH", family, family == AddressFamily.InterNetwork ? "11/0" : "3/0",
                Topology.Router2.For(family)),
            notice);
        await AssertEchoAsync(association, target, row);
    }

    [RootTheory]
    [InlineData(RelayTopologyFixture.TargetName, AddressFamily.InterNetwork)]
    [InlineData(RelayTopologyFixture.Target6Name, AddressFamily.InterNetworkV6)]
    public async Task DomainDestination_NoticeNamesItAsAddressed_WithTheResolvedAddress(string name, AddressFamily family)
    {
        // The server resolves the name through the system resolver, which in the relay namespace
        // reads the fixture's /etc/netns/…/hosts.
        var row = $"name {name}, target port closed";
        var target = Topology.Target.For(family);
        var port = _fixture.NextPort();
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, () => association.SendAsync(name, port, Payload(16)), row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(
            UdpError(Endpoint(name, port), "port-unreachable", "ECONNREFUSED", family, family == AddressFamily.InterNetwork ? "3/3" : "1/4", target,
                addr: Endpoint(target, port)),
            notice);
        await AssertEchoAsync(association, target, row);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task DroppedDatagram_DrawsNoNotice(AddressFamily family)
    {
        // Silence is proved by order: the dropped datagram goes first; a datagram to another closed
        // port of the target goes next over the same path and draws a port unreachable. Had the
        // first drawn anything, it would have come before that notice.
        var row = $"router1 DROP, then target port closed, {Name(family)}";
        var target = Topology.Target.For(family);
        var dropped = _fixture.NextPort();
        var closed = _fixture.NextPort();
        Topology.AddRule(Topology.Router1Namespace, $"{IpTables(family)} -A FORWARD -p udp --dport {dropped} -j DROP");
        await using var association = await _fixture.OpenAssociationAsync();

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(
            association,
            async () =>
            {
                await association.SendAsync(new IPEndPoint(target, dropped), Payload(16));
                await association.SendAsync(new IPEndPoint(target, closed), Payload(16));
            },
            row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(
            UdpError(Endpoint(target, closed), "port-unreachable", "ECONNREFUSED", family, family == AddressFamily.InterNetwork ? "3/3" : "1/4", target),
            notice);
        Assert.Equal(1, ForwardRulePackets(Topology, Topology.Router1Namespace, family, dropped));
        await AssertEchoAsync(association, target, row);
    }

    [RootTheory]
    [MemberData(nameof(Families))]
    public async Task ForgedPortUnreachable_IsNoticedOnlyForAFlowTheAssociationHas(AddressFamily family)
    {
        // The kernel hands an ICMP error only to the connected socket whose four-tuple it quotes.
        // Learn the association's outbound port from a datagram the target receives, then forge
        // from the target a port unreachable for a destination never sent to, and one for the
        // destination that was sent to (the control, proving the forgery is well formed). The first
        // notice must be the control's.
        var row = $"forged 3/3 for a flow never sent, then for one sent, {Name(family)}";
        var target = Topology.Target.For(family);
        await using var association = await _fixture.OpenAssociationAsync();
        using var listener = Topology.CreateSocket(Topology.TargetNamespace, family, SocketType.Dgram, ProtocolType.Udp);
        listener.Bind(new IPEndPoint(target, _fixture.NextPort()));
        var sentTo = (IPEndPoint)listener.LocalEndPoint!;
        var neverSentTo = new IPEndPoint(target, _fixture.NextPort());

        await association.SendAsync(sentTo, Payload(16));
        var arrived = await listener.ReceiveFromAsync(new byte[64], SocketFlags.None, new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0))
            .WaitAsync(TestTimeout.Default);
        var outbound = (IPEndPoint)arrived.RemoteEndPoint;
        Assert.Equal(Topology.RelayEgress.For(family), outbound.Address);

        var (notice, elapsed) = await SendAndAwaitNoticeAsync(
            association,
            () =>
            {
                ForgedIcmp.SendPortUnreachable(Topology, Topology.TargetNamespace, outbound, neverSentTo);
                ForgedIcmp.SendPortUnreachable(Topology, Topology.TargetNamespace, outbound, sentTo);
                return ValueTask.CompletedTask;
            },
            row);

        Report(_output, row, elapsed, notice);
        AssertUdpError(
            UdpError(Endpoint(target, sentTo.Port), "port-unreachable", "ECONNREFUSED", family, family == AddressFamily.InterNetwork ? "3/3" : "1/4", target),
            notice);
        await AssertEchoAsync(association, target, row);
    }

    [RootFact]
    public async Task ErrorsOfEveryKindInOneAssociation_EachNoticedOnce_AndTheEchoKeepsAnswering()
    {
        // One association meets a port unreachable, an admin-prohibited, a host unreachable and a
        // TTL exceeded in turn, for both families; between errors the echo must answer and nothing
        // else may arrive: an error on one destination socket never disturbs the others.
        var association = await _fixture.OpenAssociationAsync();
        await using (association)
        {
            foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
            {
                var target = Topology.Target.For(family);
                var v4 = family == AddressFamily.InterNetwork;
                var prohibited = _fixture.NextPort();
                var unreachable = _fixture.NextPort();
                var ttl = _fixture.NextPort();
                Topology.AddRule(Topology.Router1Namespace,
                    $"{IpTables(family)} -A FORWARD -p udp --dport {prohibited} -j REJECT --reject-with {(v4 ? "icmp-admin-prohibited" : "icmp6-adm-prohibited")}");
                Topology.AddRule(Topology.Router1Namespace,
                    $"{IpTables(family)} -A FORWARD -p udp --dport {unreachable} -j REJECT --reject-with {(v4 ? "icmp-host-unreachable" : "icmp6-addr-unreachable")}");
                Topology.Nft(Topology.Router1Namespace, $$"""
                    table inet s5t_ttl_{{(v4 ? "4" : "6")}} {
                        chain forward {
                            type filter hook forward priority 0; policy accept;
                            {{(v4 ? $"ip daddr {target} udp dport {ttl} ip ttl set 1" : $"ip6 daddr {target} udp dport {ttl} ip6 hoplimit set 1")}}
                        }
                    }
                    """);

                (int Port, string Kind)[] sequence =
                [
                    (_fixture.NextPort(), "port-unreachable"),
                    (prohibited, "admin-prohibited"),
                    (unreachable, "host-unreachable"),
                    (ttl, "ttl-exceeded"),
                ];
                foreach (var (port, kind) in sequence)
                {
                    var row = $"mixed association: {kind}, {Name(family)}";
                    var (notice, elapsed) = await SendAndAwaitNoticeAsync(association, new IPEndPoint(target, port), row);

                    Report(_output, row, elapsed, notice);
                    Assert.Equal(kind, notice["error"]);
                    Assert.Equal(Endpoint(target, port), notice.Destination);
                    await AssertEchoAsync(association, target, row);
                }
            }
        }
    }
}
