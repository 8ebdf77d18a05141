using System.Buffers.Binary;
using System.Net;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Icmp;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Icmp;

/// <summary>
/// <see cref="ErrorQueueEntry.TryParse"/> on hand-built LP64 control areas: what
/// loopback cannot produce (router offenders, frag-needed with an MTU, other control messages first).
/// </summary>
public sealed class ErrorQueueEntryParserTests
{
    [Fact]
    public void Icmp4FragNeeded_FromRouter_GivesMtuAndOffender()
    {
        byte[] name = SockaddrIn(IPAddress.Parse("192.0.2.9"), 123);
        byte[] control = Cmsg(0, 11, ExtendedErr(errno: 90, origin: 2, type: 3, code: 4, info: 1280), SockaddrIn(IPAddress.Parse("10.0.0.1"), 0));

        Assert.True(ErrorQueueEntry.TryParse(name, control, out var report));
        Assert.Equal(
            new ErrorReport(UdpErrorKind.FragmentationNeeded, 90, ErrorOrigin.Icmp, 3, 4, IPAddress.Parse("10.0.0.1"), 1280, new IPEndPoint(IPAddress.Parse("192.0.2.9"), 123)),
            report);
    }

    [Fact]
    public void Icmp6AdminProhibited_AfterAnotherControlMessage_IsFound()
    {
        byte[] name = SockaddrIn6(IPAddress.Parse("2001:db8::7"), 53);
        byte[] pktinfo = Cmsg(41, 50, new byte[20]); // IPV6_PKTINFO, 20 bytes of data: CMSG_SPACE 40
        byte[] error = Cmsg(41, 25, ExtendedErr(errno: 13, origin: 3, type: 1, code: 1, info: 0), SockaddrIn6(IPAddress.Parse("2001:db8::1"), 0));

        Assert.True(ErrorQueueEntry.TryParse(name, [.. pktinfo, .. error], out var report));
        Assert.Equal(UdpErrorKind.AdminProhibited, report.Kind);
        Assert.Equal("EACCES", report.ErrnoName);
        Assert.Equal((ErrorOrigin.Icmp6, (byte)1, (byte)1), (report.Origin, report.IcmpType, report.IcmpCode));
        Assert.Equal(IPAddress.Parse("2001:db8::1"), report.Offender);
        Assert.Equal(0, report.Mtu);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 53), report.OriginalDestination);
    }

    [Fact]
    public void TtlExceeded_V4Mapped_MapsToIpv4()
    {
        byte[] name = SockaddrIn6(IPAddress.Parse("::ffff:192.0.2.9"), 33434);
        byte[] control = Cmsg(41, 25, ExtendedErr(errno: 113, origin: 2, type: 11, code: 0, info: 0), SockaddrIn6(IPAddress.Parse("::ffff:10.0.0.1"), 0));

        Assert.True(ErrorQueueEntry.TryParse(name, control, out var report));
        Assert.Equal(UdpErrorKind.TtlExceeded, report.Kind);
        Assert.Equal("EHOSTUNREACH", report.ErrnoName);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), report.Offender);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.9"), 33434), report.OriginalDestination);
    }

    [Fact]
    public void UnspecifiedOffender_IsNull()
    {
        byte[] control = Cmsg(0, 11, ExtendedErr(errno: 90, origin: 1, type: 0, code: 0, info: 1500), new byte[16]);

        Assert.True(ErrorQueueEntry.TryParse(SockaddrIn(IPAddress.Loopback, 9), control, out var report));
        Assert.Equal((ErrorOrigin.Local, UdpErrorKind.FragmentationNeeded, 1500), (report.Origin, report.Kind, report.Mtu));
        Assert.Null(report.Offender);
    }

    [Fact]
    public void NotAnError_OrNoErrorMessage_OrTruncated_IsRejected()
    {
        byte[] name = SockaddrIn(IPAddress.Loopback, 9);
        Assert.False(ErrorQueueEntry.TryParse(name, Cmsg(0, 11, ExtendedErr(errno: 0, origin: 4, type: 0, code: 0, info: 0)), out _));
        Assert.False(ErrorQueueEntry.TryParse(name, Cmsg(0, 8, new byte[12]), out _));
        Assert.False(ErrorQueueEntry.TryParse(name, [], out _));

        byte[] whole = Cmsg(0, 11, ExtendedErr(errno: 111, origin: 2, type: 3, code: 3, info: 0), SockaddrIn(IPAddress.Loopback, 0));
        for (int length = 0; length < 16 + 16; length++)
        {
            Assert.False(ErrorQueueEntry.TryParse(name, whole.AsSpan(0, length), out _));
        }
    }

    private static byte[] Cmsg(int level, int type, params byte[][] parts)
    {
        int dataLength = parts.Sum(p => p.Length);
        byte[] cmsg = new byte[(16 + dataLength + 7) & ~7];
        BinaryPrimitives.WriteUInt64LittleEndian(cmsg, (ulong)(16 + dataLength));
        BinaryPrimitives.WriteInt32LittleEndian(cmsg.AsSpan(8), level);
        BinaryPrimitives.WriteInt32LittleEndian(cmsg.AsSpan(12), type);
        int offset = 16;
        foreach (byte[] part in parts)
        {
            part.CopyTo(cmsg, offset);
            offset += part.Length;
        }

        return cmsg;
    }

    private static byte[] ExtendedErr(uint errno, byte origin, byte type, byte code, uint info)
    {
        byte[] e = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(e, errno);
        e[4] = origin;
        e[5] = type;
        e[6] = code;
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(8), info);
        return e;
    }

    private static byte[] SockaddrIn(IPAddress address, ushort port)
    {
        byte[] s = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(s, 2);
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(2), port);
        address.TryWriteBytes(s.AsSpan(4), out _);
        return s;
    }

    private static byte[] SockaddrIn6(IPAddress address, ushort port)
    {
        byte[] s = new byte[28];
        BinaryPrimitives.WriteUInt16LittleEndian(s, 10);
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(2), port);
        address.TryWriteBytes(s.AsSpan(8), out _);
        return s;
    }
}
