using System.Buffers.Binary;
using Socks5UdpRelay.Gateway.Packets;

namespace Socks5UdpRelay.Gateway.Tests.Packets;

public sealed class IcmpErrorWriterTests
{
    [Fact]
    public void IPv4PortUnreachable_HasTheKernelsOuterHeaderAndQuotesThePacket()
    {
        var original = TestPackets.UdpV4("10.50.0.9", 40000, "10.50.0.1", 9, new byte[600]);
        var buffer = new byte[IcmpErrorWriter.MaxIPv4Length];

        int length = IcmpErrorWriter.WriteIPv4(buffer, 3, 3, 0, TestPackets.Bytes("10.50.0.1"), original, ttl: 64, identification: 0x9b4f);

        Assert.Equal(576, length);
        Assert.Equal(Convert.ToHexString(KernelVectors.IcmpErrorHeaderV4), Convert.ToHexString(buffer, 0, 20));
        Assert.Equal([3, 3], buffer[20..22]);
        Assert.Equal([0, 0, 0, 0], buffer[24..28]);
        Assert.Equal(original[..548], buffer[28..576]);
        Assert.Equal(0, InternetChecksum.Compute(buffer.AsSpan(20, 556)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(520)]
    [InlineData(521)]
    public void IPv4Quote_IsTheWholePacketUpTo548Bytes(int payloadSize)
    {
        var original = TestPackets.UdpV4("10.0.0.2", 40000, "192.0.2.7", 53, new byte[payloadSize]);
        var buffer = new byte[IcmpErrorWriter.MaxIPv4Length];

        int length = IcmpErrorWriter.WriteIPv4(buffer, 3, 1, 0, TestPackets.Bytes("192.0.2.1"), original, 60, 1);

        int quoted = Math.Min(original.Length, 548);
        Assert.Equal(28 + quoted, length);
        Assert.Equal(length, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(2)));
        Assert.Equal(original[..quoted], buffer[28..length]);
        Assert.Equal(TestPackets.Bytes("192.0.2.1"), buffer[12..16]);
        Assert.Equal(TestPackets.Bytes("10.0.0.2"), buffer[16..20]);
        Assert.Equal(60, buffer[8]);
        Assert.Equal(1, buffer[9]);
        Assert.Equal(0, InternetChecksum.Compute(buffer.AsSpan(0, 20)));
        Assert.Equal(0, InternetChecksum.Compute(buffer.AsSpan(20, length - 20)));
    }

    [Fact]
    public void IPv4FragmentationNeeded_CarriesTheNextHopMtu()
    {
        var original = TestPackets.UdpV4("10.0.0.2", 40000, "192.0.2.7", 53, new byte[1400]);
        var buffer = new byte[IcmpErrorWriter.MaxIPv4Length];

        IcmpErrorWriter.WriteIPv4(buffer, 3, 4, 1280, TestPackets.Bytes("192.0.2.1"), original, 64, 1);

        Assert.Equal([3, 4], buffer[20..22]);
        Assert.Equal([0, 0], buffer[24..26]);
        Assert.Equal(1280, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(26)));
    }

    [Fact]
    public void IPv4ParameterProblem_CarriesThePointer()
    {
        var original = TestPackets.UdpV4("10.0.0.2", 40000, "192.0.2.7", 53, [1]);
        var buffer = new byte[IcmpErrorWriter.MaxIPv4Length];

        IcmpErrorWriter.WriteIPv4(buffer, 12, 0, 9, TestPackets.Bytes("192.0.2.1"), original, 64, 1);

        Assert.Equal([12, 0], buffer[20..22]);
        Assert.Equal([9, 0, 0, 0], buffer[24..28]);
    }

    [Fact]
    public void IPv4TimeExceeded_LeavesTheRestOfHeaderZero()
    {
        var original = TestPackets.UdpV4("10.0.0.2", 40000, "192.0.2.7", 33434, [1], ttl: 1);
        var buffer = new byte[IcmpErrorWriter.MaxIPv4Length];

        IcmpErrorWriter.WriteIPv4(buffer, 11, 0, 1280, TestPackets.Bytes("198.51.100.1"), original, 63, 1);

        Assert.Equal([11, 0], buffer[20..22]);
        Assert.Equal([0, 0, 0, 0], buffer[24..28]);
        Assert.Equal(63, buffer[8]);
    }

    [Theory]
    [InlineData(0x00, 0xC0)]
    [InlineData(0x10, 0xD0)] // low delay: a TOS bit, copied
    [InlineData(0x01, 0xC0)] // ECN bit 0: outside IPTOS_TOS_MASK (0x1E), not copied
    [InlineData(0x03, 0xC2)] // bit 1 lies inside Linux's mask, and Linux copies it
    [InlineData(0xB8, 0xD8)] // EF DSCP: precedence replaced, TOS bits copied
    public void IPv4Tos_IsInternetControlWithTheQuotedTosBits(byte quotedTos, byte expected)
    {
        var original = TestPackets.UdpV4("10.0.0.2", 40000, "192.0.2.7", 53, [1], tos: quotedTos);
        var buffer = new byte[IcmpErrorWriter.MaxIPv4Length];

        IcmpErrorWriter.WriteIPv4(buffer, 3, 3, 0, TestPackets.Bytes("192.0.2.7"), original, 64, 1);

        Assert.Equal(expected, buffer[1]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1184)]
    [InlineData(1185)]
    [InlineData(1452)]
    public void IPv6Quote_IsTheWholePacketUpTo1232Bytes(int payloadSize)
    {
        var original = TestPackets.UdpV6("fd00::2", 40000, "2001:db8::7", 53, new byte[payloadSize]);
        var buffer = new byte[IcmpErrorWriter.MaxIPv6Length];

        int length = IcmpErrorWriter.WriteIPv6(buffer, 1, 4, 0, TestPackets.Bytes("2001:db8::7"), original, 61);

        int quoted = Math.Min(original.Length, 1232);
        Assert.Equal(48 + quoted, length);
        Assert.Equal(0x60, buffer[0]);
        Assert.Equal(8 + quoted, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(4)));
        Assert.Equal(58, buffer[6]);
        Assert.Equal(61, buffer[7]);
        Assert.Equal(TestPackets.Bytes("2001:db8::7"), buffer[8..24]);
        Assert.Equal(TestPackets.Bytes("fd00::2"), buffer[24..40]);
        Assert.Equal([1, 4], buffer[40..42]);
        Assert.Equal([0, 0, 0, 0], buffer[44..48]);
        Assert.Equal(original[..quoted], buffer[48..length]);
        ulong pseudo = Ipv6Header.PseudoHeaderSum(buffer.AsSpan(8, 16), buffer.AsSpan(24, 16), length - 40, 58);
        Assert.Equal(0, InternetChecksum.Finish(InternetChecksum.Add(pseudo, buffer.AsSpan(40, length - 40))));
    }

    [Fact]
    public void IPv6PacketTooBig_CarriesTheMtuIn32Bits()
    {
        var original = TestPackets.UdpV6("fd00::2", 40000, "2001:db8::7", 53, new byte[1400]);
        var buffer = new byte[IcmpErrorWriter.MaxIPv6Length];

        IcmpErrorWriter.WriteIPv6(buffer, 2, 0, 1280, TestPackets.Bytes("2001:db8::1"), original, 64);

        Assert.Equal([2, 0], buffer[40..42]);
        Assert.Equal(1280u, BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(44)));
    }

    [Fact]
    public void IPv6ParameterProblem_CarriesThePointer_AndOtherTypesIgnoreInfo()
    {
        var original = TestPackets.UdpV6("fd00::2", 40000, "2001:db8::7", 53, [1]);
        var buffer = new byte[IcmpErrorWriter.MaxIPv6Length];

        IcmpErrorWriter.WriteIPv6(buffer, 4, 1, 6, TestPackets.Bytes("2001:db8::1"), original, 64);
        Assert.Equal(6u, BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(44)));

        IcmpErrorWriter.WriteIPv6(buffer, 3, 0, 6, TestPackets.Bytes("2001:db8::1"), original, 64);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(44)));
    }

    [Fact]
    public void IPv6FlowLabel_IsWritten()
    {
        var original = TestPackets.UdpV6("fd00::2", 40000, "2001:db8::7", 53, [1]);
        var buffer = new byte[IcmpErrorWriter.MaxIPv6Length];

        IcmpErrorWriter.WriteIPv6(buffer, 1, 4, 0, TestPackets.Bytes("2001:db8::7"), original, 64, flowLabel: 0x2e05a);

        Assert.Equal(0x6002e05au, BinaryPrimitives.ReadUInt32BigEndian(buffer));
    }
}
