using System.Net;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class UdpRequestHeaderTests
{
    private static readonly byte[] Payload = Ascii("hello\n");

    [Theory]
    [MemberData(nameof(WireAddresses.All), MemberType = typeof(WireAddresses))]
    public void Write_MatchesRfcBytes(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        var buffer = new byte[UdpRequestHeader.MaxLength];
        var socks = new SocksAddress(type, address, port);

        int written = UdpRequestHeader.Write(buffer, socks);

        Assert.Equal(Concat([0x00, 0x00, 0x00], encoded), buffer[..written]);
        Assert.Equal(written, UdpRequestHeader.GetLength(socks));
    }

    [Theory]
    [MemberData(nameof(WireAddresses.All), MemberType = typeof(WireAddresses))]
    public void WriteThenParse_RoundTripsAndFindsData(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        var datagram = new byte[UdpRequestHeader.MaxLength + Payload.Length];
        int headerLength = UdpRequestHeader.Write(datagram, new SocksAddress(type, address, port));
        Payload.CopyTo(datagram, headerLength);
        var whole = datagram.AsSpan(0, headerLength + Payload.Length);

        Assert.True(UdpRequestHeader.TryParse(whole, out byte fragment, out var destination, out int dataOffset));

        Assert.Equal(0, fragment);
        Assert.Equal(3 + encoded.Length, dataOffset);
        Assert.Equal(type, destination.Type);
        Assert.Equal(address, destination.AddressBytes.ToArray());
        Assert.Equal(port, destination.Port);
        Assert.Equal(Payload, whole[dataOffset..].ToArray());
    }

    [Theory]
    [MemberData(nameof(WireAddresses.All), MemberType = typeof(WireAddresses))]
    public void Parse_EveryTruncation_IsFalse(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        byte[] header = Concat([0x00, 0x00, 0x00], encoded);

        for (int length = 0; length < header.Length; length++)
        {
            Assert.False(UdpRequestHeader.TryParse(header[..length], out _, out _, out _), $"{length} of {header.Length} bytes");
        }

        Assert.True(UdpRequestHeader.TryParse(header, out _, out var destination, out int headerLength));
        Assert.Equal(header.Length, headerLength);
        Assert.Equal(type, destination.Type);
        Assert.Equal(address, destination.AddressBytes.ToArray());
        Assert.Equal(port, destination.Port);
    }

    [Theory]
    [InlineData(0x01)]
    [InlineData(0x7F)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void Parse_Fragment_IsReported(byte frag)
    {
        byte[] datagram = Concat([0x00, 0x00, frag], Hex("01 CB 00 71 07 02 2B"), Payload);

        Assert.True(UdpRequestHeader.TryParse(datagram, out byte fragment, out var destination, out int headerLength));
        Assert.Equal(frag, fragment);
        Assert.Equal("203.0.113.7:555", destination.ToString());
        Assert.Equal(UdpRequestHeader.IPv4Length, headerLength);
    }

    [Theory]
    [InlineData(0x00, 0x01)]
    [InlineData(0xFF, 0xFF)]
    [InlineData(0x12, 0x00)]
    public void Parse_Rsv_IsTheMappingBigEndian_AndTheOverloadWithoutItIgnoresIt(byte rsv0, byte rsv1)
    {
        byte[] datagram = Concat([rsv0, rsv1, 0x00], Hex("01 7F 00 00 01 00 35"), Payload);

        Assert.True(UdpRequestHeader.TryParse(datagram, out byte fragment, out var destination, out int headerLength));
        Assert.True(UdpRequestHeader.TryParse(datagram, out ushort mapping, out byte fragment2, out var destination2, out int headerLength2));
        Assert.Equal(0, fragment);
        Assert.Equal("127.0.0.1:53", destination.ToString());
        Assert.Equal(10, headerLength);
        Assert.Equal((rsv0 << 8) | rsv1, mapping);
        Assert.Equal(UdpRequestHeader.ReadMapping(datagram), mapping);
        Assert.Equal((fragment, destination.ToString(), headerLength), (fragment2, destination2.ToString(), headerLength2));
    }

    [Theory]
    [InlineData(0, "00 00")]
    [InlineData(1, "00 01")]
    [InlineData(258, "01 02")]
    [InlineData(65535, "FF FF")]
    public void Write_Mapping_GoesInRsvBigEndian_AndParsesBack(ushort mapping, string rsvHex)
    {
        var buffer = Repeat(0xEE, UdpRequestHeader.MaxLength);

        int written = UdpRequestHeader.Write(buffer, IPAddress.Loopback, 53, mapping);
        int named = UdpRequestHeader.Write(buffer.AsSpan(written), new SocksAddress(AddressType.DomainName, "a"u8, 1), mapping);

        Assert.Equal(Concat(Hex(rsvHex), Hex("00 01 7F 00 00 01 00 35")), buffer[..written]);
        Assert.Equal(Concat(Hex(rsvHex), Hex("00 03 01 61 00 01")), buffer[written..(written + named)]);
        Assert.True(UdpRequestHeader.TryParse(buffer.AsSpan(written, named), out ushort read, out _, out _, out _));
        Assert.Equal(mapping, read);
    }

    [Fact]
    public void WriteMapping_SetsRsvOfAHeaderAlreadyWritten()
    {
        var header = new byte[UdpRequestHeader.IPv4Length];
        UdpRequestHeader.Write(header, IPAddress.Loopback, 53);

        UdpRequestHeader.WriteMapping(header, 0x0102);

        Assert.Equal(Hex("01 02 00 01 7F 00 00 01 00 35"), header);
    }

    [Fact]
    public void Parse_WithMapping_EveryTruncation_IsFalse()
    {
        byte[] header = Hex("00 07 00 01 7F 00 00 01 00 35");

        for (int length = 0; length < header.Length; length++)
        {
            Assert.False(UdpRequestHeader.TryParse(header[..length], out ushort mapping, out _, out _, out _), $"{length} bytes");
            Assert.Equal(0, mapping);
        }
    }

    [Theory]
    [MemberData(nameof(WireAddresses.UnknownAddressTypes), MemberType = typeof(WireAddresses))]
    public void Parse_UnknownAtyp_IsFalse(byte atyp)
    {
        Assert.False(UdpRequestHeader.TryParse(Concat([0x00, 0x00, 0x00, atyp], Hex("7F 00 00 01 00 35"), Payload), out _, out _, out _));
    }

    [Fact]
    public void Parse_ZeroLengthName_IsFalse()
    {
        Assert.False(UdpRequestHeader.TryParse(Hex("00 00 00 03 00 00 35 41 41 41"), out _, out _, out _));
    }

    [Fact]
    public void Parse_HeaderWithoutData_IsAnEmptyDatagram()
    {
        byte[] datagram = Hex("00 00 00 01 7F 00 00 01 00 35");

        Assert.True(UdpRequestHeader.TryParse(datagram, out _, out _, out int headerLength));
        Assert.Equal(datagram.Length, headerLength);
    }

    [Theory]
    [InlineData("127.0.0.1", 53, "00 00 00 01 7F 00 00 01 00 35")]
    [InlineData("::ffff:192.0.2.9", 123, "00 00 00 01 C0 00 02 09 00 7B")]
    [InlineData("2001:db8::7", 53, "00 00 00 04 20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 07 00 35")]
    public void WriteIPAddress_MatchesRfcBytes(string address, ushort port, string expectedHex)
    {
        var buffer = new byte[UdpRequestHeader.MaxLength];

        int written = UdpRequestHeader.Write(buffer, IPAddress.Parse(address), port);

        Assert.Equal(Hex(expectedHex), buffer[..written]);
    }

    [Fact]
    public void WriteIPAddress_OverwritesStaleBytes()
    {
        var buffer = Repeat(0xEE, UdpRequestHeader.MaxLength);

        int written = UdpRequestHeader.Write(buffer, IPAddress.Loopback, 53);

        Assert.Equal(Hex("00 00 00 01 7F 00 00 01 00 35"), buffer[..written]);
    }

    [Fact]
    public void Lengths_FollowTheRfcLayout()
    {
        Assert.Equal(3, UdpRequestHeader.FixedLength);
        Assert.Equal(10, UdpRequestHeader.IPv4Length);
        Assert.Equal(22, UdpRequestHeader.IPv6Length);
        Assert.Equal(262, UdpRequestHeader.MaxLength);
    }
}
