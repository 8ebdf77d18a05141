using System.Buffers.Binary;
using Socks5UdpRelay.Gateway.Packets;

namespace Socks5UdpRelay.Gateway.Tests.Packets;

public sealed class UdpPacketWriterTests
{
    [Fact]
    public void IPv4_IsByteIdenticalToTheKernels()
    {
        var packet = TestPackets.UdpV4("10.50.0.1", 40001, "10.50.0.9", 7, "hello"u8.ToArray(), ttl: 64, id: 0x02dd, dontFragment: true);

        Assert.Equal(Convert.ToHexString(KernelVectors.UdpV4), Convert.ToHexString(packet));
    }

    [Fact]
    public void IPv6_IsByteIdenticalToTheKernels()
    {
        var packet = TestPackets.UdpV6("fd50::1", 40002, "fd50::9", 7, "hello"u8.ToArray(), hopLimit: 64, flowLabel: 0xbcf7a);

        Assert.Equal(Convert.ToHexString(KernelVectors.UdpV6), Convert.ToHexString(packet));
    }

    [Fact]
    public void HeadersOnly_ReturnTheirLength()
    {
        Span<byte> headers = stackalloc byte[UdpPacketWriter.MaxHeaderLength];

        Assert.Equal(28, UdpPacketWriter.WriteIPv4(headers, TestPackets.Bytes("10.0.0.1"), 1, TestPackets.Bytes("10.0.0.2"), 2, [], 64, 0));
        Assert.Equal(48, UdpPacketWriter.WriteIPv6(headers, TestPackets.Bytes("fd00::1"), 1, TestPackets.Bytes("fd00::2"), 2, [], 64));
    }

    [Fact]
    public void TypeOfServiceAndNoDontFragment_AreWritten()
    {
        var packet = TestPackets.UdpV4("10.0.0.1", 1, "10.0.0.2", 2, [1, 2, 3], ttl: 3, id: 0xBEEF, dontFragment: false, tos: 0xB8);

        Assert.Equal(0xB8, packet[1]);
        Assert.Equal(0xBEEF, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(4)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(6)));
        Assert.Equal(3, packet[8]);
        Assert.Equal(0, InternetChecksum.Compute(packet.AsSpan(0, 20)));
    }

    [Fact]
    public void ChecksumThatComputesToZero_IsSentAsAllOnes()
    {
        // Find a 2-byte payload whose checksum computes to 0 (sum 0xFFFF): it must go out as 0xFFFF (RFC 768).
        var template = TestPackets.UdpV4("10.0.0.1", 1, "10.0.0.2", 2, [0, 0]);
        ushort checksumWithZeroPayload = BinaryPrimitives.ReadUInt16BigEndian(template.AsSpan(26));
        // Adding word w to the sum lowers the complement by w: a payload word equal to the checksum makes it 0.
        byte[] payload = [(byte)(checksumWithZeroPayload >> 8), (byte)checksumWithZeroPayload];

        var packet = TestPackets.UdpV4("10.0.0.1", 1, "10.0.0.2", 2, payload);

        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(26)));
        ulong pseudo = Ipv4Header.PseudoHeaderSum(TestPackets.Bytes("10.0.0.1"), TestPackets.Bytes("10.0.0.2"), 17, 10);
        Assert.True(UdpHeader.IsChecksumValid(packet.AsSpan(20), pseudo, isIPv6: false));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1471)]
    [InlineData(UdpPacketWriter.MaxIPv4Payload)]
    public void AnyPayloadSize_RoundTripsThroughTheParser(int size)
    {
        var payload = new byte[size];
        new Random(size).NextBytes(payload);
        var v4 = TestPackets.UdpV4("192.0.2.1", 53, "10.0.0.2", 40000, payload);
        var v6 = TestPackets.UdpV6("2001:db8::1", 53, "fd00::2", 40000, payload);

        foreach (var packet in new[] { v4, v6 })
        {
            Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(packet, out var udp));
            Assert.Equal(53, udp.SourcePort);
            Assert.Equal(40000, udp.DestinationPort);
            Assert.True(udp.Payload.SequenceEqual(payload));
            ulong pseudo = udp.IsIPv6
                ? Ipv6Header.PseudoHeaderSum(udp.SourceAddress, udp.DestinationAddress, udp.Datagram.Length, 17)
                : Ipv4Header.PseudoHeaderSum(udp.SourceAddress, udp.DestinationAddress, 17, udp.Datagram.Length);
            Assert.True(UdpHeader.IsChecksumValid(udp.Datagram, pseudo, udp.IsIPv6));
        }
    }

    [Fact]
    public void ChecksumOverTheWrongPseudoHeader_IsInvalid()
    {
        Assert.Equal(PacketParseResult.Udp, IpPacketParser.Parse(KernelVectors.UdpV4, out var udp));
        ulong wrong = Ipv4Header.PseudoHeaderSum(TestPackets.Bytes("10.50.0.2"), udp.DestinationAddress, 17, udp.Datagram.Length);

        Assert.False(UdpHeader.IsChecksumValid(udp.Datagram, wrong, isIPv6: false));
    }
}
