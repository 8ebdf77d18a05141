using System.Buffers.Binary;
using System.Net.Sockets;
using Socks5UdpRelay.Gateway.Packets;

namespace Socks5UdpRelay.Gateway.Tests.Packets;

public sealed class IpPacketParserTests
{
    [Fact]
    public void KernelUdpV4_ReadsEveryField()
    {
        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(KernelVectors.UdpV4, out var udp));

        Assert.Equal(AddressFamily.InterNetwork, udp.Family);
        Assert.Equal(TestPackets.Bytes("10.50.0.1"), udp.SourceAddress.ToArray());
        Assert.Equal(TestPackets.Bytes("10.50.0.9"), udp.DestinationAddress.ToArray());
        Assert.Equal(40001, udp.SourcePort);
        Assert.Equal(7, udp.DestinationPort);
        Assert.Equal(64, udp.Ttl);
        Assert.Equal("hello"u8.ToArray(), udp.Payload.ToArray());
        Assert.Equal(KernelVectors.UdpV4, udp.Packet.ToArray());
        Assert.Equal(13, udp.Datagram.Length);
    }

    [Fact]
    public void KernelUdpV6_ReadsEveryField()
    {
        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(KernelVectors.UdpV6, out var udp));

        Assert.True(udp.IsIPv6);
        Assert.Equal(TestPackets.Bytes("fd50::1"), udp.SourceAddress.ToArray());
        Assert.Equal(TestPackets.Bytes("fd50::9"), udp.DestinationAddress.ToArray());
        Assert.Equal(40002, udp.SourcePort);
        Assert.Equal(7, udp.DestinationPort);
        Assert.Equal(64, udp.Ttl);
        Assert.Equal("hello"u8.ToArray(), udp.Payload.ToArray());
    }

    [Fact]
    public void EveryTruncation_IsMalformed()
    {
        foreach (var packet in new[] { KernelVectors.UdpV4, KernelVectors.UdpV6 })
        {
            for (int length = 0; length < packet.Length; length++)
            {
                Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet.AsSpan(0, length), out _));
            }
        }
    }

    [Fact]
    public void BytesAfterTheIpLength_AreIgnored()
    {
        byte[] padded = [.. KernelVectors.UdpV4, 0, 0, 0];

        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(padded, out var udp));
        Assert.Equal(KernelVectors.UdpV4.Length, udp.Packet.Length);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x50)]
    [InlineData(0xF0)]
    public void OtherVersions_AreMalformed(byte versionByte)
    {
        var packet = (byte[])KernelVectors.UdpV4.Clone();
        packet[0] = (byte)(versionByte | 5);

        Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet, out _));
    }

    [Fact]
    public void IPv4BadHeaderChecksum_IsMalformed()
    {
        var packet = (byte[])KernelVectors.UdpV4.Clone();
        packet[11] ^= 1;

        Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet, out _));
    }

    [Theory]
    [InlineData(4)] // IHL below 5
    [InlineData(15)] // IHL beyond the packet's 33 bytes... 60 > 33
    public void IPv4BadIhl_IsMalformed(int ihl)
    {
        var packet = (byte[])KernelVectors.UdpV4.Clone();
        packet[0] = (byte)(0x40 | ihl);
        TestPackets.FixIPv4Checksum(packet);

        Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet, out _));
    }

    [Theory]
    [InlineData(19)]
    [InlineData(34)]
    public void IPv4TotalLengthOutOfRange_IsMalformed(int totalLength)
    {
        var packet = (byte[])KernelVectors.UdpV4.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)totalLength);
        TestPackets.FixIPv4Checksum(packet);

        Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet, out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    public void IPv4Options_AreSkipped(int words)
    {
        var packet = TestPackets.WithOptions(KernelVectors.UdpV4, words);

        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(packet, out var udp));
        Assert.Equal(40001, udp.SourcePort);
        Assert.Equal("hello"u8.ToArray(), udp.Payload.ToArray());
        Assert.Equal(packet, udp.Packet.ToArray());
    }

    [Theory]
    [InlineData(0x2000)] // MF: the first fragment
    [InlineData(0x00B9)] // offset 185 × 8: a later fragment
    [InlineData(0x20B9)] // both
    public void IPv4Fragments_AreRecognised(ushort flagsAndOffset)
    {
        var packet = (byte[])KernelVectors.UdpV4.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), flagsAndOffset);
        TestPackets.FixIPv4Checksum(packet);

        Assert.Equal(PacketParseResult.Fragment, IpPacketParser.Parse(packet, out _));
    }

    [Fact]
    public void IPv4DontFragmentAlone_IsNotAFragment() =>
        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(KernelVectors.UdpV4, out _));

    [Theory]
    [InlineData(1)] // ICMP
    [InlineData(6)] // TCP
    public void IPv4OtherProtocols_AreNotUdp(byte protocol)
    {
        var packet = (byte[])KernelVectors.UdpV4.Clone();
        packet[9] = protocol;
        TestPackets.FixIPv4Checksum(packet);

        Assert.Equal(PacketParseResult.NotUdp, IpPacketParser.Parse(packet, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(14)] // one more than the 13 bytes there are
    public void UdpLengthOutOfRange_IsMalformed(int udpLength)
    {
        foreach (var (source, offset) in new[] { (KernelVectors.UdpV4, 20), (KernelVectors.UdpV6, 40) })
        {
            var packet = (byte[])source.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(offset + 4), (ushort)udpLength);

            Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet, out _));
        }
    }

    [Fact]
    public void UdpLengthShorterThanTheIpPayload_TrimsThePayload()
    {
        var packet = (byte[])KernelVectors.UdpV4.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), 10);

        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(packet, out var udp));
        Assert.Equal("he"u8.ToArray(), udp.Payload.ToArray());
    }

    [Fact]
    public void IPv4ZeroUdpChecksum_IsAccepted()
    {
        var packet = (byte[])KernelVectors.UdpV4.Clone();
        packet[26] = packet[27] = 0;

        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(packet, out _));
    }

    [Fact]
    public void IPv6ZeroUdpChecksum_IsMalformed()
    {
        var packet = (byte[])KernelVectors.UdpV6.Clone();
        packet[46] = packet[47] = 0;

        Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet, out _));
    }

    [Fact]
    public void IPv6PayloadLengthBeyondTheBuffer_IsMalformed()
    {
        var packet = (byte[])KernelVectors.UdpV6.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 14);

        Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet, out _));
    }

    [Fact]
    public void IPv6Jumbogram_IsMalformed()
    {
        var packet = (byte[])KernelVectors.UdpV6.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 0);

        Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet, out _));
    }

    [Fact]
    public void IPv6HopByHopRoutingAndDestinationOptions_AreSkipped()
    {
        var packet = TestPackets.WithExtensions(KernelVectors.UdpV6, (Ipv6Header.HopByHop, 8), (Ipv6Header.Routing, 24), (Ipv6Header.DestinationOptions, 16));

        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(packet, out var udp));
        Assert.Equal(40002, udp.SourcePort);
        Assert.Equal("hello"u8.ToArray(), udp.Payload.ToArray());
        Assert.Equal(packet, udp.Packet.ToArray());
    }

    [Fact]
    public void IPv6FragmentHeader_IsAFragment()
    {
        var packet = TestPackets.WithExtensions(KernelVectors.UdpV6, (Ipv6Header.DestinationOptions, 8), (Ipv6Header.Fragment, 8));

        Assert.Equal(PacketParseResult.Fragment, IpPacketParser.Parse(packet, out _));
    }

    [Fact]
    public void IPv6TooManyExtensionHeaders_IsMalformed()
    {
        var headers = Enumerable.Repeat((Ipv6Header.DestinationOptions, 8), Ipv6Header.MaxExtensionHeaders + 1).ToArray();

        Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(TestPackets.WithExtensions(KernelVectors.UdpV6, headers), out _));
        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(TestPackets.WithExtensions(KernelVectors.UdpV6, headers[1..]), out _));
    }

    [Fact]
    public void IPv6ExtensionHeaderRunningPastThePacket_IsMalformed()
    {
        var packet = TestPackets.WithExtensions(KernelVectors.UdpV6, (Ipv6Header.HopByHop, 8));
        packet[41] = 200; // claims 1608 bytes

        Assert.Equal(PacketParseResult.Malformed, IpPacketParser.Parse(packet, out _));
    }

    [Theory]
    [InlineData(58)] // ICMPv6
    [InlineData(6)] // TCP
    [InlineData(59)] // No Next Header
    public void IPv6OtherProtocols_AreNotUdp(byte nextHeader)
    {
        var packet = (byte[])KernelVectors.UdpV6.Clone();
        packet[6] = nextHeader;

        Assert.Equal(PacketParseResult.NotUdp, IpPacketParser.Parse(packet, out _));
    }

    [Fact]
    public void IPv6EmptyPacketWithNoNextHeader_IsNotUdp()
    {
        var packet = KernelVectors.UdpV6[..40];
        packet[4] = packet[5] = 0;
        packet[6] = Ipv6Header.NoNextHeader;

        Assert.Equal(PacketParseResult.NotUdp, IpPacketParser.Parse(packet, out _));
    }
}
