using System.Buffers.Binary;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Socks5UdpRelay.Gateway.Notices;
using Socks5UdpRelay.Gateway.Packets;
using Socks5UdpRelay.Gateway.Plane;
using Socks5UdpRelay.Gateway.Tests.Fakes;
using Socks5UdpRelay.Gateway.Tests.Packets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Gateway.Tests.Plane;

public sealed class PacketPlaneTests
{
    private readonly RecordingDevice _device = new();
    private readonly RecordingUplink _uplink = new();
    private readonly ManualTimeProvider _time = new(startTimestamp: 1_000_000);

    [Fact]
    public void DatagramToARoutedPrefix_ReachesTheUplinkWithItsFlowAndTtl()
    {
        var plane = Plane();

        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 53, [1, 2, 3], ttl: 3), _uplink);

        var sent = Assert.Single(_uplink.Sent);
        Assert.Equal(IPEndPoint.Parse("10.9.0.2:40000"), sent.Source);
        Assert.Equal(IPEndPoint.Parse("10.203.0.9:53"), sent.Destination);
        Assert.Equal(3, sent.Ttl);
        Assert.Equal([1, 2, 3], sent.Payload);
        Assert.Equal(1, plane.Counters.Datagrams);
        Assert.Equal(1, plane.Counters.FlowsOpened);
    }

    [Fact]
    public void OneProgramSocket_IsOneFlowWhateverTheDestination()
    {
        var plane = Plane();

        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 53, [1]), _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.10", 123, [2]), _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40001, "10.203.0.9", 53, [3]), _uplink);
        plane.Handle(TestPackets.UdpV6("fd00::2", 40000, "fd00:203::9", 53, [4]), _uplink);

        Assert.Equal(_uplink.Sent[0].Flow, _uplink.Sent[1].Flow);
        Assert.Equal(3, _uplink.Sent.Select(s => s.Flow).Distinct().Count());
        Assert.Equal(3, plane.FlowCount);
    }

    [Fact]
    public void DropsAreCountedAndNeverReachTheUplink()
    {
        var plane = Plane();
        var fragment = TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 53, [1]);
        fragment[6] = 0x20;
        TestPackets.FixIPv4Checksum(fragment);
        var icmp = TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 53, [1]);
        icmp[9] = 1;
        TestPackets.FixIPv4Checksum(icmp);

        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.204.0.9", 53, [1]), _uplink);
        plane.Handle(fragment, _uplink);
        plane.Handle(icmp, _uplink);
        plane.Handle([0x45, 0, 0], _uplink);

        Assert.Empty(_uplink.Sent);
        Assert.Equal((4, 1, 1, 1, 1, 0), (plane.Counters.PacketsRead, plane.Counters.Unrouted, plane.Counters.Fragments, plane.Counters.NotUdp, plane.Counters.Malformed, plane.Counters.Datagrams));
    }

    [Fact]
    public void Reply_IsWrittenFromTheSourceToTheProgramSocket()
    {
        var plane = Plane();
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 53, [1]), _uplink);

        Assert.True(plane.WriteUdpReply(_uplink.Sent[0].Flow, TestPackets.Bytes("10.203.0.9"), 53, "answer"u8));

        var written = Assert.Single(_device.Written);
        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(written, out var reply));
        Assert.Equal(IPEndPoint.Parse("10.203.0.9:53"), reply.GetSource());
        Assert.Equal(IPEndPoint.Parse("10.9.0.2:40000"), reply.GetDestination());
        Assert.Equal("answer"u8.ToArray(), reply.Payload.ToArray());
        Assert.Equal(64, reply.Ttl);
        Assert.True(UdpHeader.IsChecksumValid(reply.Datagram, Ipv4Header.PseudoHeaderSum(reply.SourceAddress, reply.DestinationAddress, 17, reply.Datagram.Length), false));
        Assert.Equal(1, plane.Counters.RepliesWritten);
    }

    [Fact]
    public void IPv6Reply_IsWrittenWithAValidChecksum()
    {
        var plane = Plane();
        plane.Handle(TestPackets.UdpV6("fd00::2", 40000, "fd00:203::9", 53, [1]), _uplink);

        Assert.True(plane.WriteUdpReply(_uplink.Sent[0].Flow, TestPackets.Bytes("fd00:203::9"), 53, "answer"u8));

        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(_device.Written[0], out var reply));
        Assert.Equal(IPEndPoint.Parse("[fd00::2]:40000"), reply.GetDestination());
        Assert.True(UdpHeader.IsChecksumValid(reply.Datagram, Ipv6Header.PseudoHeaderSum(reply.SourceAddress, reply.DestinationAddress, reply.Datagram.Length, 17), true));
    }

    [Fact]
    public void RepliesThatCannotBeWritten_AreDroppedAndCounted()
    {
        var plane = Plane();
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 53, [1]), _uplink);
        var flow = _uplink.Sent[0].Flow;

        Assert.False(plane.WriteUdpReply(default, TestPackets.Bytes("10.203.0.9"), 53, [1]));
        Assert.False(plane.WriteUdpReply(flow, TestPackets.Bytes("fd00::9"), 53, [1]));
        Assert.False(plane.WriteUdpReply(flow, TestPackets.Bytes("10.203.0.9"), 53, new byte[UdpPacketWriter.MaxIPv4Payload + 1]));
        Assert.True(plane.WriteUdpReply(flow, TestPackets.Bytes("10.203.0.9"), 53, new byte[UdpPacketWriter.MaxIPv4Payload]));
        _device.Refuse = true;
        Assert.False(plane.WriteUdpReply(flow, TestPackets.Bytes("10.203.0.9"), 53, [1]));

        Assert.Equal((3, 1, 1), (plane.Counters.RepliesDropped, plane.Counters.RepliesWritten, plane.Counters.WriteFailures));
    }

    [Fact]
    public void FullTable_ClosesTheLeastRecentlyActiveFlow()
    {
        var plane = Plane(maxFlows: 2);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 1, "10.203.0.9", 53, [1]), _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 2, "10.203.0.9", 53, [1]), _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 1, "10.203.0.9", 53, [1]), _uplink);
        var first = _uplink.Sent[0].Flow;
        var second = _uplink.Sent[1].Flow;

        plane.Handle(TestPackets.UdpV4("10.9.0.2", 3, "10.203.0.9", 53, [1]), _uplink);

        Assert.Equal([second], _uplink.Closed);
        Assert.False(plane.WriteUdpReply(second, TestPackets.Bytes("10.203.0.9"), 53, [1]));
        Assert.True(plane.WriteUdpReply(first, TestPackets.Bytes("10.203.0.9"), 53, [1]));
        Assert.Equal(1, plane.Counters.FlowsClosed);

        // The socket comes back as a new flow, never with its old id.
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 2, "10.203.0.9", 53, [1]), _uplink);
        Assert.NotEqual(second, _uplink.Sent[^1].Flow);
    }

    [Fact]
    public void IdleFlows_CloseAfterTheTimeout_AndRepliesKeepThemOpen()
    {
        var plane = Plane(idle: TimeSpan.FromSeconds(120));
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 1, "10.203.0.9", 53, [1]), _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 2, "10.203.0.9", 53, [1]), _uplink);
        var (quiet, answered) = (_uplink.Sent[0].Flow, _uplink.Sent[1].Flow);

        _time.Advance(TimeSpan.FromSeconds(100));
        plane.WriteUdpReply(answered, TestPackets.Bytes("10.203.0.9"), 53, [1]);
        _time.Advance(TimeSpan.FromSeconds(20));
        plane.ExpireIdle(_uplink);
        Assert.Empty(_uplink.Closed);

        _time.Advance(TimeSpan.FromSeconds(1));
        plane.ExpireIdle(_uplink);
        Assert.Equal([quiet], _uplink.Closed);

        _time.Advance(TimeSpan.FromSeconds(100));
        plane.ExpireIdle(_uplink);
        Assert.Equal([quiet, answered], _uplink.Closed);
        Assert.Equal(0, plane.FlowCount);
    }

    [Fact]
    public void Notice_IsWrittenAsAnErrorQuotingTheLastDatagramToItsDestination()
    {
        var plane = Plane();
        var toClosedPort = TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 555, "probe-1"u8.ToArray(), id: 11);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 555, "probe-0"u8.ToArray(), id: 10), _uplink);
        plane.Handle(toClosedPort, _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.10", 555, "elsewhere"u8.ToArray()), _uplink);

        var result = plane.WriteNotice(_uplink.Sent[0].Flow, Parse("UDP-ERROR dst=10.203.0.9:555 error=port-unreachable errno=ECONNREFUSED icmp=3/3 from=10.203.0.9 rttl=60"));

        Assert.Equal(NoticeMappingResult.Injected, result);
        var icmp = Assert.Single(_device.Written);
        Assert.Equal(TestPackets.Bytes("10.203.0.9"), icmp[12..16]);
        Assert.Equal(TestPackets.Bytes("10.9.0.2"), icmp[16..20]);
        Assert.Equal(60, icmp[8]);
        Assert.Equal([3, 3], icmp[20..22]);
        Assert.Equal(toClosedPort, icmp[28..]);
        Assert.Equal(1, plane.Counters.IcmpErrorsWritten);
    }

    [Fact]
    public void NoticeNamingAnAddrUsesIt_AndIPv6Works()
    {
        var plane = Plane();
        var datagram = TestPackets.UdpV6("fd00::2", 40000, "fd00:203::9", 53, [1]);
        plane.Handle(datagram, _uplink);

        var result = plane.WriteNotice(_uplink.Sent[0].Flow, Parse("UDP-ERROR dst=ns.example:53 addr=[fd00:203::9]:53 error=admin-prohibited errno=EACCES icmp6=1/1 from=fd00:203::1"));

        Assert.Equal(NoticeMappingResult.Injected, result);
        var icmp = _device.Written[0];
        Assert.Equal(TestPackets.Bytes("fd00:203::1"), icmp[8..24]);
        Assert.Equal([1, 1], icmp[40..42]);
        Assert.Equal(datagram, icmp[48..]);
    }

    [Fact]
    public void NoticeFromALocalAddress_ComesFromTheDestinationInstead()
    {
        var plane = new PacketPlane(_device, Options(), _time, NullLogger.Instance, a => a.Equals(IPAddress.Parse("10.9.0.2")));
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 555, [1]), _uplink);

        plane.WriteNotice(_uplink.Sent[0].Flow, Parse("UDP-ERROR dst=10.203.0.9:555 error=port-unreachable icmp=3/3 from=10.9.0.2"));

        Assert.Equal(TestPackets.Bytes("10.203.0.9"), _device.Written[0][12..16]);
    }

    [Theory]
    [InlineData("UDP-ERROR dst=10.203.0.99:555 error=port-unreachable", NoticeMappingResult.NoDatagram)]
    [InlineData("UDP-ERROR dst=10.203.0.9:556 error=port-unreachable", NoticeMappingResult.NoDatagram)]
    [InlineData("UDP-ERROR dst=name.example:555 error=port-unreachable", NoticeMappingResult.NoDestination)]
    [InlineData("UDP-ERROR error=port-unreachable", NoticeMappingResult.NoDestination)]
    [InlineData("UDP-ERROR dst=10.203.0.9:555 error=unknown errno=ENOBUFS", NoticeMappingResult.NoIcmpEquivalent)]
    [InlineData("CLOSING reason=shutdown", NoticeMappingResult.NotAnError)]
    public void NoticesWithoutAnError_WriteNothing(string line, NoticeMappingResult expected)
    {
        var plane = Plane();
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 555, [1]), _uplink);

        Assert.Equal(expected, plane.WriteNotice(_uplink.Sent[0].Flow, Parse(line)));
        Assert.Empty(_device.Written);
        Assert.Equal(expected == NoticeMappingResult.NotAnError ? 0 : 1, plane.Counters.NoticesNotInjected);
    }

    [Fact]
    public void NoticeForAClosedFlow_HasNoDatagram()
    {
        var plane = Plane(maxFlows: 1);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 1, "10.203.0.9", 555, [1]), _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 2, "10.203.0.9", 555, [1]), _uplink);

        Assert.Equal(NoticeMappingResult.NoDatagram, plane.WriteNotice(_uplink.Sent[0].Flow, Parse("UDP-ERROR dst=10.203.0.9:555 error=port-unreachable")));
    }

    [Fact]
    public void LastDatagrams_AreBoundedLeastRecentlyUsedFirst()
    {
        var plane = Plane(lastDatagrams: 2);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 1, "10.203.0.1", 9, [1]), _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 1, "10.203.0.2", 9, [1]), _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 1, "10.203.0.1", 9, [1]), _uplink);
        plane.Handle(TestPackets.UdpV4("10.9.0.2", 1, "10.203.0.3", 9, [1]), _uplink);
        var flow = _uplink.Sent[0].Flow;

        Assert.Equal(NoticeMappingResult.NoDatagram, plane.WriteNotice(flow, Parse("UDP-ERROR dst=10.203.0.2:9 error=port-unreachable")));
        Assert.Equal(NoticeMappingResult.Injected, plane.WriteNotice(flow, Parse("UDP-ERROR dst=10.203.0.1:9 error=port-unreachable")));
        Assert.Equal(NoticeMappingResult.Injected, plane.WriteNotice(flow, Parse("UDP-ERROR dst=10.203.0.3:9 error=port-unreachable")));
    }

    [Fact]
    public void WriteIcmpError_QuotesTheDatagramWithTheGivenSpec()
    {
        var plane = Plane();
        var datagram = TestPackets.UdpV4("10.9.0.2", 40000, "10.203.0.9", 33434, new byte[1472], ttl: 1);
        plane.Handle(datagram, _uplink);

        var result = plane.WriteIcmpError(_uplink.Sent[0].Flow, IPEndPoint.Parse("10.203.0.9:33434"), new IcmpErrorSpec(3, 4, 1280, IPAddress.Parse("10.204.1.1"), 64));

        Assert.Equal(NoticeMappingResult.Injected, result);
        var icmp = _device.Written[0];
        Assert.Equal(576, icmp.Length);
        Assert.Equal(1280, BinaryPrimitives.ReadUInt16BigEndian(icmp.AsSpan(26)));
        Assert.Equal(datagram[..548], icmp[28..]);
    }

    [Fact]
    public void DatagramPath_AllocatesNothing()
    {
        var device = new RecordingDevice { KeepAll = false };
        var plane = new PacketPlane(device, Options(), _time, NullLogger.Instance, _ => false);
        var uplink = new EchoUplink(plane);
        var packets = Enumerable.Range(0, 64).Select(i => TestPackets.UdpV4("10.9.0.2", (ushort)(40000 + i), "10.203.0.9", 53, new byte[100])).ToArray();
        var packetsV6 = Enumerable.Range(0, 64).Select(i => TestPackets.UdpV6("fd00::2", (ushort)(40000 + i), "fd00:203::9", 53, new byte[100])).ToArray();
        foreach (var p in packets.Concat(packetsV6))
        {
            plane.Handle(p, uplink); // warm up: flows, store slots, JIT
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            plane.Handle(packets[i % packets.Length], uplink);
            plane.Handle(packetsV6[i % packetsV6.Length], uplink);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(20_000 + 128, device.WriteCount);
    }

    private static Notice Parse(string line)
    {
        Assert.True(Notice.TryParse(line, out var notice));
        return notice;
    }

    private static TunGatewayOptions Options(int maxFlows = 16, TimeSpan? idle = null, int lastDatagrams = 16) => new()
    {
        Routes = [IPNetwork.Parse("10.203.0.0/16"), IPNetwork.Parse("fd00:203::/48")],
        MaxFlows = maxFlows,
        FlowIdleTimeout = idle ?? TimeSpan.FromMinutes(2),
        LastDatagrams = lastDatagrams,
    };

    private PacketPlane Plane(int maxFlows = 16, TimeSpan? idle = null, int lastDatagrams = 16) =>
        new(_device, Options(maxFlows, idle, lastDatagrams), _time, NullLogger.Instance, _ => false);

    /// <summary>Answers every datagram at once from its destination, as the fake uplink of the namespace tests does.</summary>
    private sealed class EchoUplink(PacketPlane plane) : IUplink
    {
        public void Send(FlowId flow, in UdpPacket packet) =>
            plane.WriteUdpReply(flow, packet.DestinationAddress, packet.DestinationPort, packet.Payload);

        public void FlowClosed(FlowId flow)
        {
        }
    }
}
