using System.Buffers;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;
using static Socks5UdpRelay.Protocol.Tests.UotWire;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>
/// Every malformed frame of the README's list ("UDP over TCP": DATLEN over the limit, an unknown
/// ATYP, an empty name, HDRLEN other than ATYP implies, a control or mapped frame without the
/// opt-in), each found from the fewest bytes that show it: never by waiting for DATA.
/// </summary>
public class UdpOverTcpMalformedFrameTests
{
    /// <summary>
    /// The bytes that show the mistake, and whether the reader admits extended frames. Each must
    /// be malformed as it stands, with nothing after it; each shorter prefix must need more.
    /// </summary>
    public static TheoryData<string, bool> WrongHeaderLengths => new()
    {
        { "00 05 09 01", false }, // IPv4 is 10
        { "00 05 0B 01", false },
        { "00 05 00 01", false },
        { "00 05 16 01", false }, // IPv6's 22 on IPv4
        { "00 05 15 04", false }, // IPv6 is 22
        { "00 05 17 04", false },
        { "00 05 0A 04", false }, // IPv4's 10 on IPv6
        { "00 05 0F 03 09", false }, // a 9-byte name is 16
        { "00 05 11 03 09", false },
        { "00 05 FF 03 09", false },
        { "00 05 0A 81", true }, // mapped IPv4 is 12, not the plain 10
        { "00 05 0D 81", true },
        { "00 05 16 84", true }, // mapped IPv6 is 24
        { "00 05 08 83 00 01 01", true }, // mapped 1-byte name is 10
        { "00 05 03 FF", true }, // a control frame's HDRLEN is 4
        { "00 05 05 FF", true },
        { "00 05 0A FF", true },
    };

    [Theory]
    [MemberData(nameof(WrongHeaderLengths))]
    public void HeaderLengthOtherThanAtypImplies_IsMalformed_BeforeAnyDataArrives(string hex, bool extended)
    {
        byte[] header = Hex(hex);
        for (int length = 0; length < header.Length; length++)
        {
            Assert.Equal((OperationStatus.NeedMoreData, UdpFrameError.None), Read(header[..length], extended));
        }

        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.HeaderLength), Read(header, extended));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.HeaderLength), Read(Concat(header, Payload(300)), extended));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1500)]
    [InlineData(65_000)]
    public void DatLenOverTheLimit_IsMalformed_FromItsTwoBytes(int limit)
    {
        byte[] datLen = BigEndian(limit + 1);

        Assert.Equal((OperationStatus.NeedMoreData, UdpFrameError.None), Read(datLen[..1], extended: false, limit));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.TooLong), Read(datLen, extended: false, limit));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.TooLong), Read(datLen, extended: true, limit));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.TooLong), Read(Concat(datLen, Hex("0A 01 7F 00 00 01 00 35")), extended: false, limit));
    }

    [Fact]
    public void DatLenOverTheLimit_OnAControlFrame_IsMalformedToo_AndComesFirst()
    {
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.TooLong), Read(Hex("04 01 04 FF"), extended: true, maxData: 1024));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.TooLong), Read(Hex("04 01 09 02"), extended: true, maxData: 1024)); // before the unknown ATYP
    }

    [Theory]
    [MemberData(nameof(WireAddresses.UnknownAddressTypes), MemberType = typeof(WireAddresses))]
    public void UnknownAtyp_WithoutOptIn_IsMalformed_FromTheFirstFourBytes(byte atyp)
    {
        byte[] header = [0x00, 0x05, 0x0A, atyp];
        var expected = atyp == 0xFF ? UdpFrameError.NotOptedIn : UdpFrameError.UnknownType;
        Assert.Equal((OperationStatus.NeedMoreData, UdpFrameError.None), Read(header[..3], extended: false));
        Assert.Equal((OperationStatus.InvalidData, expected), Read(header, extended: false));
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x02)]
    [InlineData(0x05)]
    [InlineData(0x7F)]
    [InlineData(0x80)] // the mapped flag on no address type
    [InlineData(0x82)]
    [InlineData(0x85)]
    [InlineData(0xFE)]
    public void UnknownAtyp_AfterOptIn_IsMalformed_FromTheFirstFourBytes(byte atyp)
    {
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.UnknownType), Read([0x00, 0x05, 0x0C, atyp], extended: true));
    }

    [Theory]
    [InlineData(249, false)]
    [InlineData(255, false)]
    [InlineData(247, true)]
    [InlineData(255, true)]
    public void NameTooLongForHdrlen_NoHeaderLengthDescribesIt_MalformedFromItsLengthByte(int nameLength, bool mapped)
    {
        for (int headerLength = 0; headerLength <= 255; headerLength++)
        {
            byte[] header = mapped
                ? [0x00, 0x01, (byte)headerLength, 0x83, 0x00, 0x01, (byte)nameLength]
                : [0x00, 0x01, (byte)headerLength, 0x03, (byte)nameLength];
            Assert.Equal((OperationStatus.InvalidData, UdpFrameError.HeaderLength), Read(header, extended: mapped));
        }
    }

    [Fact]
    public void EmptyName_IsMalformed_FromItsLengthByte()
    {
        Assert.Equal((OperationStatus.NeedMoreData, UdpFrameError.None), Read(Hex("00 05 07 03"), extended: false));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.EmptyName), Read(Hex("00 05 07 03 00"), extended: false));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.EmptyName), Read(Hex("00 05 07 03 00 00 35 41 41 41 41 41"), extended: true));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.EmptyName), Read(Hex("00 05 09 83 00 01 00"), extended: true));
    }

    [Theory]
    [InlineData("00 04 04 FF")] // a control frame
    [InlineData("00 05 0C 81")] // mapped IPv4
    [InlineData("00 05 18 84")] // mapped IPv6
    [InlineData("00 05 0A 83")] // mapped name
    public void ControlOrMappedFrame_WithoutOptIn_IsMalformed_FromTheFirstFourBytes(string hex)
    {
        byte[] header = Hex(hex);
        Assert.Equal((OperationStatus.NeedMoreData, UdpFrameError.None), Read(header[..3], extended: false));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.NotOptedIn), Read(header, extended: false));
        Assert.NotEqual(OperationStatus.InvalidData, Read(header, extended: true).Status);
    }

    [Fact]
    public void WholeControlAndMappedFrames_WithoutOptIn_AreMalformed()
    {
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.NotOptedIn), Read(Control("MAP\n"), extended: false));
        Assert.Equal((OperationStatus.InvalidData, UdpFrameError.NotOptedIn), Read(Mapped(1, Hex("01 7F 00 00 01 00 07"), Ascii("x")), extended: false));
    }

    [Fact]
    public void MalformedFrame_ConsumesNothing_AndGivesNoFrame()
    {
        var status = UdpOverTcpFrame.TryRead(Hex("00 05 09 01 7F 00 00 01 00 35 41 41 41 41 41"), extended: false, 65_000, out var frame, out int consumed, out var error);
        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(UdpFrameError.HeaderLength, error);
        Assert.Equal(0, consumed);
        Assert.True(frame.Data.IsEmpty);
    }
}
