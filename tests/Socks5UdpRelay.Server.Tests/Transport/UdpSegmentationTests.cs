using System.Buffers.Binary;
using Socks5UdpRelay.Server.Transport.Epoll;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Transport;

/// <summary>Which datagrams leave in one segmented send, and the two control messages of segmentation offload, byte by byte.</summary>
public sealed class UdpSegmentationTests
{
    private const int Any = UdpSegmentation.MaxBytes;

    [Fact]
    public void EqualSizes_LeaveInOneRun()
    {
        Assert.Equal(5, UdpSegmentation.RunLength([1200, 1200, 1200, 1200, 1200], 0, Any));
        Assert.Equal(3, UdpSegmentation.RunLength([64, 1200, 1200, 1200], 1, Any));
    }

    [Fact]
    public void AShorterLastDatagram_JoinsTheRunAndEndsIt()
    {
        Assert.Equal(3, UdpSegmentation.RunLength([1200, 1200, 300, 1200, 1200], 0, Any));
        Assert.Equal(2, UdpSegmentation.RunLength([1200, 1], 0, Any));
    }

    [Fact]
    public void ALargerDatagram_StartsANewRun()
    {
        Assert.Equal(2, UdpSegmentation.RunLength([500, 500, 501, 501], 0, Any));
        Assert.Equal(2, UdpSegmentation.RunLength([500, 500, 501, 501], 2, Any));
    }

    [Fact]
    public void ADatagramAlone_IsAPlainSend()
    {
        Assert.Equal(1, UdpSegmentation.RunLength([1200], 0, Any));
        Assert.Equal(1, UdpSegmentation.RunLength([300, 1200, 1200], 0, Any)); // the kernel cuts at 300: a larger one cannot follow
        Assert.Equal(1, UdpSegmentation.RunLength([1200, 1200, 1200], 2, Any));
    }

    [Fact]
    public void EmptyDatagrams_NeverJoinARun()
    {
        Assert.Equal(1, UdpSegmentation.RunLength([0, 0, 0], 0, Any));
        Assert.Equal(2, UdpSegmentation.RunLength([100, 100, 0, 100], 0, Any));
    }

    [Fact]
    public void Runs_StopAtSixtyFourDatagrams()
    {
        int[] hundred = Enumerable.Repeat(100, 100).ToArray();
        Assert.Equal(UdpSegmentation.MaxSegments, UdpSegmentation.RunLength(hundred, 0, Any));
        Assert.Equal(100 - UdpSegmentation.MaxSegments, UdpSegmentation.RunLength(hundred, UdpSegmentation.MaxSegments, Any));
    }

    [Fact]
    public void Runs_StopBeforeTheLargestUdpPayload()
    {
        int[] sixty = Enumerable.Repeat(1200, 60).ToArray();
        Assert.Equal(UdpSegmentation.MaxBytes / 1200, UdpSegmentation.RunLength(sixty, 0, Any)); // 54 × 1200 = 64 800; 55 would be 66 000
        Assert.Equal(2, UdpSegmentation.RunLength([30_000, 30_000, 30_000], 0, Any));
        Assert.Equal(3, UdpSegmentation.RunLength([32_000, 32_000, 1_507, 1], 0, Any)); // 65 507 exactly, ended by the shorter one
        Assert.Equal(2, UdpSegmentation.RunLength([32_000, 32_000, 1_508], 0, Any)); // one byte over
    }

    [Fact]
    public void ASizeAboveWhatTheSocketMayStillSegment_IsSentAlone()
    {
        Assert.Equal(1, UdpSegmentation.RunLength([1400, 1400, 1400], 0, 1399));
        Assert.Equal(3, UdpSegmentation.RunLength([1400, 1400, 1400], 0, 1400));
        Assert.Equal(1, UdpSegmentation.RunLength([100, 100], 0, 0)); // segmentation off
    }

    [Fact]
    public void SegmentSizeControlMessage_IsACmsghdrAtSolUdpUdpSegmentWithALittleEndianU16()
    {
        Span<byte> control = stackalloc byte[UdpSegmentation.ControlSpace];
        control.Fill(0xEE);
        UdpSegmentation.WriteSegmentSize(control, 1210);
        byte[] expected =
        [
            18, 0, 0, 0, 0, 0, 0, 0, // cmsg_len = CMSG_LEN(2)
            17, 0, 0, 0, // SOL_UDP
            103, 0, 0, 0, // UDP_SEGMENT
            0xBA, 0x04, // 1210
            0, 0, 0, 0, 0, 0, // padding to CMSG_SPACE
        ];
        Assert.Equal(expected, control.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpSegmentation.WriteSegmentSize(new byte[UdpSegmentation.ControlSpace], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpSegmentation.WriteSegmentSize(new byte[UdpSegmentation.ControlSpace], 65_536));
    }

    [Fact]
    public void GroControlMessage_GivesTheSegmentSize_WhereverItStands()
    {
        byte[] gro = Cmsg(17, 104, 1200);
        byte[] ttl = Cmsg(0, 2, 64); // IP_TTL, as IP_RECVTTL adds it
        Assert.Equal(1200, UdpSegmentation.ReadSegmentSize(gro));
        Assert.Equal(1200, UdpSegmentation.ReadSegmentSize([.. ttl, .. gro]));
        Assert.Equal(1200, UdpSegmentation.ReadSegmentSize([.. gro, .. ttl]));
        Assert.Equal(0, UdpSegmentation.ReadSegmentSize(ttl));
        Assert.Equal(0, UdpSegmentation.ReadSegmentSize([]));
    }

    [Fact]
    public void GroControlMessage_CutAnywhere_OrWithABadLength_GivesNoSize()
    {
        byte[] gro = Cmsg(17, 104, 1200);
        for (int cut = 0; cut < 20; cut++)
        {
            Assert.Equal(0, UdpSegmentation.ReadSegmentSize(gro.AsSpan(0, cut)));
        }

        byte[] tooLong = Cmsg(17, 104, 1200);
        BinaryPrimitives.WriteUInt64LittleEndian(tooLong, 200);
        Assert.Equal(0, UdpSegmentation.ReadSegmentSize(tooLong));
        byte[] tooShort = Cmsg(17, 104, 1200);
        BinaryPrimitives.WriteUInt64LittleEndian(tooShort, 8);
        Assert.Equal(0, UdpSegmentation.ReadSegmentSize(tooShort));
        byte[] noInt = Cmsg(17, 104, 1200);
        BinaryPrimitives.WriteUInt64LittleEndian(noInt, 18); // a u16 where an int belongs
        Assert.Equal(0, UdpSegmentation.ReadSegmentSize(noInt));
    }

    /// <summary>A control message with an int: cmsghdr (len, level, type), the int, padded to 8.</summary>
    private static byte[] Cmsg(int level, int type, int value)
    {
        byte[] cmsg = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(cmsg, 20);
        BinaryPrimitives.WriteInt32LittleEndian(cmsg.AsSpan(8), level);
        BinaryPrimitives.WriteInt32LittleEndian(cmsg.AsSpan(12), type);
        BinaryPrimitives.WriteInt32LittleEndian(cmsg.AsSpan(16), value);
        return cmsg;
    }
}
