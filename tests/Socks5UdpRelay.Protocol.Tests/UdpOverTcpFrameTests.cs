using System.Buffers;
using System.Text;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;
using static Socks5UdpRelay.Protocol.Tests.UotWire;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>
/// Reading well-formed UDP-over-TCP frames (the README, "UDP over TCP"): every address type, the
/// frames of a client that opted in (control, mapped), every split point of a frame, several
/// frames in one buffer, and DATLEN from 0 to the reader's limit.
/// </summary>
public class UdpOverTcpFrameTests
{
    private static readonly byte[] Data = Ascii("hello\n");

    [Fact]
    public void IPv4Frame_ByteForByte_FromTheReadmeDiagram()
    {
        // DATLEN=5, HDRLEN=10, ATYP=1, 127.0.0.1, port 53, "hello"
        byte[] frame = Hex("00 05 0A 01 7F 00 00 01 00 35 68 65 6C 6C 6F");

        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(frame, extended: false, 65_000, out var read, out int consumed, out var error));

        Assert.Equal(15, consumed);
        Assert.Equal(UdpFrameError.None, error);
        Assert.Equal(UdpFrameKind.Datagram, read.Kind);
        Assert.Equal(0, read.Mapping);
        Assert.Equal(AddressType.IPv4, read.Address.Type);
        Assert.Equal(new byte[] { 127, 0, 0, 1 }, read.Address.AddressBytes.ToArray());
        Assert.Equal(53, read.Address.Port);
        Assert.Equal(Ascii("hello"), read.Data.ToArray());
    }

    [Fact]
    public void IPv6AndNameFrames_ByteForByte_HeaderLengths22And7PlusName()
    {
        byte[] ipv6 = Hex("00 01 16 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 1F 90 2A");
        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(ipv6, extended: false, 65_000, out var six, out int sixLength));
        Assert.Equal(23, sixLength);
        Assert.Equal("[::1]:8080", six.Address.ToString());
        Assert.Equal(new byte[] { 0x2A }, six.Data.ToArray());

        byte[] name = Hex("00 02 10 03 09 6C 6F 63 61 6C 68 6F 73 74 00 07 4F 4B");
        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(name, extended: false, 65_000, out var named, out int nameLength));
        Assert.Equal(18, nameLength);
        Assert.Equal(AddressType.DomainName, named.Address.Type);
        Assert.Equal("localhost", named.Address.GetHostName());
        Assert.Equal(7, named.Address.Port);
        Assert.Equal(Ascii("OK"), named.Data.ToArray());
    }

    [Theory]
    [MemberData(nameof(Addresses), MemberType = typeof(UotWire))]
    public void DatagramFrame_EveryAddress_ReadsAddressAndData_WithOrWithoutOptIn(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        AssertReadsAsDatagram(Datagram(encoded, Data), extended: false, 0, type, address, port, Data);
        AssertReadsAsDatagram(Datagram(encoded, Data), extended: true, 0, type, address, port, Data);
    }

    [Theory]
    [MemberData(nameof(Addresses), MemberType = typeof(UotWire))]
    public void DatagramFrame_EveryAddress_NeedsMoreDataAtEverySplitPoint(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        _ = (type, address, port);
        AssertNeedsMoreDataUntilComplete(Datagram(encoded, Data), Reader(extended: false));
        AssertNeedsMoreDataUntilComplete(Datagram(encoded, []), Reader(extended: false));
    }

    [Theory]
    [MemberData(nameof(MappedAddresses), MemberType = typeof(UotWire))]
    public void MappedFrame_EveryAddress_ReadsItsMapping_AndSplitsLikeAnyFrame(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        byte[] frame = Mapped(0x1234, encoded, Data);
        Assert.Equal(Datagram(encoded, Data)[2] + 2, frame[2]); // HDRLEN: 2 more than the plain frame's

        AssertReadsAsDatagram(frame, extended: true, 0x1234, type, address, port, Data);
        AssertNeedsMoreDataUntilComplete(frame, Reader(extended: true));
    }

    [Fact]
    public void MappedIPv4Frame_ByteForByte_HeaderLength12()
    {
        // DATLEN=1, HDRLEN=12, ATYP=0x81, mapping 3, 10.0.0.2, port 9, DATA "x"
        byte[] frame = Hex("00 01 0C 81 00 03 0A 00 00 02 00 09 78");

        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(frame, extended: true, 65_000, out var read, out int consumed));

        Assert.Equal(13, consumed);
        Assert.Equal(3, read.Mapping);
        Assert.Equal("10.0.0.2:9", read.Address.ToString());
        Assert.Equal(Ascii("x"), read.Data.ToArray());
    }

    [Fact]
    public void ControlFrame_CarriesItsLine_NewlineIncluded()
    {
        byte[] frame = Hex("00 04 04 FF 4D 41 50 0A"); // "MAP\n"

        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(frame, extended: true, 65_000, out var read, out int consumed));

        Assert.Equal(8, consumed);
        Assert.Equal(UdpFrameKind.Control, read.Kind);
        Assert.Equal(0, read.Mapping);
        Assert.Equal(Ascii("MAP\n"), read.Data.ToArray());
    }

    [Theory]
    [InlineData("NOTICES version=1 commands=set,map\n")]
    [InlineData("\n")]
    [InlineData("")]
    [InlineData("not one line\nbut two\n")]
    public void ControlFrame_AnyData_SplitsLikeAnyFrame(string line)
    {
        // The codec frames; whether DATA is one line is the command reader's business.
        byte[] frame = Control(line);
        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(frame, extended: true, 65_000, out var read, out _));
        Assert.Equal(line, Encoding.ASCII.GetString(read.Data));
        AssertNeedsMoreDataUntilComplete(frame, Reader(extended: true));
    }

    [Fact]
    public void ControlFrame_OfTheLongestLine_1024Bytes()
    {
        string line = new string('a', 1023) + "\n";
        byte[] frame = Control(line);
        Assert.Equal(Hex("04 00 04 FF"), frame[..4]);
        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(frame, extended: true, 65_000, out var read, out int consumed));
        Assert.Equal(1028, consumed);
        Assert.Equal(1024, read.Data.Length);
    }

    [Fact]
    public void SeveralFramesInOneBuffer_ReadOneAfterAnother_EachConsumedExactly()
    {
        byte[][] frames =
        [
            Datagram(Hex("01 7F 00 00 01 00 07"), Ascii("one")),
            Datagram(Hex("04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 07"), []),
            Mapped(1, Hex("03 01 61 00 01"), Ascii("three")),
            Control("SET dst=a:1 ttl=2\n"),
            Datagram(Hex("03 09 6C 6F 63 61 6C 68 6F 73 74 FF FF"), Payload(1500)),
        ];
        byte[] all = Concat(frames);
        var seen = new List<string>();
        int offset = 0;
        while (offset < all.Length)
        {
            var status = UdpOverTcpFrame.TryRead(all.AsSpan(offset), extended: true, 65_000, out var read, out int consumed);
            Assert.Equal(OperationStatus.Done, status);
            Assert.Equal(frames[seen.Count].Length, consumed);
            seen.Add(read.Kind == UdpFrameKind.Control ? "control " + Encoding.ASCII.GetString(read.Data) : $"{read.Mapping} {read.Address.ToString()} {read.Data.Length}");
            offset += consumed;
        }

        Assert.Equal(["0 127.0.0.1:7 3", "0 [::1]:7 0", "1 a:1 5", "control SET dst=a:1 ttl=2\n", "0 localhost:65535 1500"], seen);
    }

    [Fact]
    public void TwoFramesBackToBack_EverySplitOfTheSecond_ReadsTheFirstAndWaitsForTheRest()
    {
        byte[] first = Datagram(Hex("01 0A 00 00 01 00 35"), Ascii("a"));
        byte[] second = Datagram(Hex("03 01 62 00 35"), Ascii("bb"));
        for (int cut = 0; cut < second.Length; cut++)
        {
            byte[] buffer = Concat(first, second[..cut]);
            Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(buffer, extended: false, 65_000, out _, out int consumed));
            Assert.Equal(first.Length, consumed);
            Assert.Equal(OperationStatus.NeedMoreData, UdpOverTcpFrame.TryRead(buffer.AsSpan(consumed), extended: false, 65_000, out _, out int rest));
            Assert.Equal(0, rest);
        }
    }

    [Fact]
    public void DatLenZero_IsAFrameOfItsHeaderAlone()
    {
        byte[] frame = Hex("00 00 0A 01 7F 00 00 01 00 35");
        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(Concat(frame, Trailer), extended: false, 65_000, out var read, out int consumed));
        Assert.Equal(10, consumed);
        Assert.True(read.Data.IsEmpty);
    }

    [Theory]
    [InlineData(1500)]
    [InlineData(65_000)]
    [InlineData(65_535)]
    public void DatLenAtTheLimit_IsRead(int limit)
    {
        byte[] frame = Datagram(Hex("01 7F 00 00 01 00 35"), Payload(limit));
        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(frame, extended: false, limit, out var read, out int consumed));
        Assert.Equal(10 + limit, consumed);
        Assert.Equal(Payload(limit), read.Data.ToArray());
        Assert.Equal(OperationStatus.NeedMoreData, UdpOverTcpFrame.TryRead(frame.AsSpan(0, frame.Length - 1), extended: false, limit, out _, out _));
    }

    [Fact]
    public void MaxData_IsWhatTwoBytesCanSay()
    {
        Assert.Equal(65_535, UdpOverTcpFrame.MaxData);
        Assert.Equal(1500, UdpOverTcpFrame.CompatibleMaxData);
        Assert.Equal(0xFF, UdpOverTcpFrame.ControlType);
        Assert.Equal(0x80, UdpOverTcpFrame.MappedFlag);
    }
}
