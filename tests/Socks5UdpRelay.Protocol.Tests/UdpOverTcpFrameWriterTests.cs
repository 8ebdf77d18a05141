using System.Buffers;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;
using static Socks5UdpRelay.Protocol.Tests.UotWire;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>
/// Writing UDP-over-TCP frames (the README, "UDP over TCP"), compared byte for byte with frames
/// built by hand, and the in-place rewrite of a SOCKS UDP header (RFC 1928 §7, RSV as the
/// mapping) into a frame header, DATA untouched.
/// </summary>
public class UdpOverTcpFrameWriterTests
{
    private static readonly byte[] Data = Ascii("payload");

    [Theory]
    [MemberData(nameof(Addresses), MemberType = typeof(UotWire))]
    public void WriteDatagram_EveryAddress_IsTheHandBuiltFrame(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        var socks = new SocksAddress(type, address, port);
        byte[] buffer = new byte[UdpOverTcpFrame.MaxHeaderLength + Data.Length];

        int written = UdpOverTcpFrame.WriteDatagram(buffer, socks, Data);

        Assert.Equal(Datagram(encoded, Data), buffer[..written]);
        Assert.Equal(3 + encoded.Length, UdpOverTcpFrame.GetHeaderLength(socks));
    }

    [Theory]
    [MemberData(nameof(MappedAddresses), MemberType = typeof(UotWire))]
    public void WriteMappedDatagram_EveryAddress_IsTheHandBuiltFrame_AndReadsBack(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        var socks = new SocksAddress(type, address, port);
        byte[] buffer = new byte[UdpOverTcpFrame.MaxHeaderLength + Data.Length];

        int written = UdpOverTcpFrame.WriteDatagram(buffer, socks, Data, mapping: 0xBEEF);

        Assert.Equal(Mapped(0xBEEF, encoded, Data), buffer[..written]);
        Assert.Equal(5 + encoded.Length, UdpOverTcpFrame.GetHeaderLength(socks, 0xBEEF));
        AssertReadsAsDatagram(buffer[..written], extended: true, 0xBEEF, type, address, port, Data);
    }

    [Fact]
    public void HeaderLengths_AreTheReadmes_10_22_7PlusName_AndTwoMoreWhenMapped()
    {
        var ipv4 = new SocksAddress(AddressType.IPv4, new byte[4], 1);
        var ipv6 = new SocksAddress(AddressType.IPv6, new byte[16], 1);
        var name = new SocksAddress(AddressType.DomainName, Ascii("localhost"), 1);
        Assert.Equal([10, 22, 16], new[] { UdpOverTcpFrame.GetHeaderLength(ipv4), UdpOverTcpFrame.GetHeaderLength(ipv6), UdpOverTcpFrame.GetHeaderLength(name) });
        Assert.Equal([12, 24, 18], new[] { UdpOverTcpFrame.GetHeaderLength(ipv4, 1), UdpOverTcpFrame.GetHeaderLength(ipv6, 1), UdpOverTcpFrame.GetHeaderLength(name, 1) });
        Assert.Equal(255, UdpOverTcpFrame.MaxHeaderLength); // HDRLEN is one byte
    }

    [Theory]
    [InlineData(248, 0, true)]
    [InlineData(249, 0, false)]
    [InlineData(246, 7, true)]
    [InlineData(247, 7, false)]
    public void Names_LongerThanHdrLenCanAnnounce_AreRefused_NotWrittenWithAWrongHdrLen(int nameLength, ushort mapping, bool fits)
    {
        byte[] nameBytes = Enumerable.Repeat((byte)'a', nameLength).ToArray();
        byte[] buffer = new byte[300];
        if (fits)
        {
            Assert.Equal(255, UdpOverTcpFrame.WriteDatagramHeader(buffer, new SocksAddress(AddressType.DomainName, nameBytes, 53), 0, mapping));
            Assert.Equal(255, buffer[2]);
        }
        else
        {
            var e = Assert.Throws<ArgumentException>(() => UdpOverTcpFrame.WriteDatagramHeader(buffer, new SocksAddress(AddressType.DomainName, nameBytes, 53), 0, mapping));
            Assert.Contains("HDRLEN is one byte", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void WriteDatagramHeader_ForDatLenZeroAndTheMaximum()
    {
        var socks = new SocksAddress(AddressType.IPv4, [192, 0, 2, 1], 443);
        byte[] buffer = new byte[16];
        Assert.Equal(10, UdpOverTcpFrame.WriteDatagramHeader(buffer, socks, 0));
        Assert.Equal(Hex("00 00 0A 01 C0 00 02 01 01 BB"), buffer[..10]);
        Assert.Equal(10, UdpOverTcpFrame.WriteDatagramHeader(buffer, socks, 65_535));
        Assert.Equal(Hex("FF FF 0A 01 C0 00 02 01 01 BB"), buffer[..10]);
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpOverTcpFrame.WriteDatagramHeader(new byte[16], new SocksAddress(AddressType.IPv4, [192, 0, 2, 1], 443), 65_536));
    }

    [Fact]
    public void WriteControl_IsDatLen_04_FF_TheLine()
    {
        byte[] buffer = new byte[64];
        int written = UdpOverTcpFrame.WriteControl(buffer, Ascii("UDP-ERROR dst=1.2.3.4:5 error=unknown\n"));
        Assert.Equal(Concat(Hex("00 26 04 FF"), Ascii("UDP-ERROR dst=1.2.3.4:5 error=unknown\n")), buffer[..written]);
        Assert.Equal(Control("UDP-ERROR dst=1.2.3.4:5 error=unknown\n"), buffer[..written]);
    }

    /// <summary>RSV(2) FRAG(1) ATYP ADDR PORT, then DATA: the SOCKS UDP header the relay already built.</summary>
    public static TheoryData<string, string> UdpHeaders => new()
    {
        { "00 00 00 01 7F 00 00 01 1F 90", "01 7F 00 00 01 1F 90" },
        { "00 00 00 04 20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 01 00 35", "04 20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 01 00 35" },
        { "00 00 00 03 09 6C 6F 63 61 6C 68 6F 73 74 00 07", "03 09 6C 6F 63 61 6C 68 6F 73 74 00 07" },
    };

    [Theory]
    [MemberData(nameof(UdpHeaders))]
    public void RewriteUdpHeader_Mapping0_BecomesAPlainFrame_InPlace(string udpHeader, string address)
    {
        byte[] header = Hex(udpHeader);
        byte[] data = Payload(300);
        byte[] buffer = Concat(header, data);

        int length = UdpOverTcpFrame.RewriteUdpHeader(buffer, room: 0, header.Length, data.Length);

        Assert.Equal(buffer.Length, length);
        Assert.Equal(Datagram(Hex(address), data), buffer);
        Assert.Equal(0, UdpOverTcpFrame.RoomFor(0));
    }

    [Theory]
    [MemberData(nameof(UdpHeaders))]
    public void RewriteUdpHeader_MappedHeader_BecomesAMappedFrame_InTwoSpareBytes(string udpHeader, string address)
    {
        byte[] header = Hex(udpHeader);
        header[0] = 0x01; // RSV: mapping 0x0102
        header[1] = 0x02;
        byte[] data = Payload(17);
        byte[] buffer = Concat([0xEE, 0xEE], header, data); // two spare bytes, whatever they held

        int length = UdpOverTcpFrame.RewriteUdpHeader(buffer, room: 2, header.Length, data.Length);

        Assert.Equal(buffer.Length, length);
        Assert.Equal(Mapped(0x0102, Hex(address), data), buffer);
        Assert.Equal(2, UdpOverTcpFrame.RoomFor(0x0102));
        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(buffer, extended: true, 65_000, out var read, out _));
        Assert.Equal(0x0102, read.Mapping);
    }

    [Fact]
    public void RewriteUdpHeader_IPv4_ByteByByte()
    {
        // RSV=0 FRAG=0 ATYP=1 10.1.2.3:53 "hi" -> DATLEN=2 HDRLEN=10 ATYP=1 10.1.2.3:53 "hi"
        byte[] buffer = Hex("00 00 00 01 0A 01 02 03 00 35 68 69");
        Assert.Equal(12, UdpOverTcpFrame.RewriteUdpHeader(buffer, 0, 10, 2));
        Assert.Equal(Hex("00 02 0A 01 0A 01 02 03 00 35 68 69"), buffer);

        // RSV=7 -> DATLEN=2 HDRLEN=12 ATYP=0x81 MAPPING=7 10.1.2.3:53 "hi"
        byte[] mapped = Hex("99 99 00 07 00 01 0A 01 02 03 00 35 68 69");
        Assert.Equal(14, UdpOverTcpFrame.RewriteUdpHeader(mapped, 2, 10, 2));
        Assert.Equal(Hex("00 02 0C 81 00 07 0A 01 02 03 00 35 68 69"), mapped);
    }

    [Fact]
    public void RewriteUdpHeader_DatLenZero_And65535()
    {
        byte[] empty = Hex("00 00 00 01 0A 01 02 03 00 35");
        Assert.Equal(10, UdpOverTcpFrame.RewriteUdpHeader(empty, 0, 10, 0));
        Assert.Equal(Hex("00 00 0A 01 0A 01 02 03 00 35"), empty);

        byte[] largest = Concat(Hex("00 00 00 01 0A 01 02 03 00 35"), new byte[65_535]);
        Assert.Equal(10 + 65_535, UdpOverTcpFrame.RewriteUdpHeader(largest, 0, 10, 65_535));
        Assert.Equal(Hex("FF FF 0A"), largest[..3]);
    }

    [Fact]
    public void RewriteUdpHeader_RoomThatDoesNotFitTheMapping_IsRefused_BufferUntouched()
    {
        byte[] plain = Hex("00 00 00 01 0A 01 02 03 00 35 68 69");
        byte[] mapped = Hex("00 07 00 01 0A 01 02 03 00 35 68 69");
        byte[] before = [.. mapped];
        Assert.Throws<ArgumentException>(() => UdpOverTcpFrame.RewriteUdpHeader(Concat([0, 0], plain), 2, 10, 2));
        Assert.Throws<ArgumentException>(() => UdpOverTcpFrame.RewriteUdpHeader(mapped, 0, 10, 2));
        Assert.Equal(before, mapped);
    }
}
