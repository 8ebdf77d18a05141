namespace Socks5UdpRelay.Protocol.Tests;

public class UdpErrorKindsTests
{
    /// <summary>The README, the table of error kinds, ICMPv4 column.</summary>
    public static TheoryData<byte, byte, UdpErrorKind> Icmp4Table => new()
    {
        { 3, 3, UdpErrorKind.PortUnreachable },
        { 3, 1, UdpErrorKind.HostUnreachable },
        { 3, 7, UdpErrorKind.HostUnreachable },
        { 3, 12, UdpErrorKind.HostUnreachable },
        { 3, 0, UdpErrorKind.NetUnreachable },
        { 3, 6, UdpErrorKind.NetUnreachable },
        { 3, 11, UdpErrorKind.NetUnreachable },
        { 3, 2, UdpErrorKind.ProtocolUnreachable },
        { 3, 9, UdpErrorKind.AdminProhibited },
        { 3, 10, UdpErrorKind.AdminProhibited },
        { 3, 13, UdpErrorKind.AdminProhibited },
        { 3, 4, UdpErrorKind.FragmentationNeeded },
        { 11, 0, UdpErrorKind.TtlExceeded },
    };

    /// <summary>The README, the table of error kinds, ICMPv6 column.</summary>
    public static TheoryData<byte, byte, UdpErrorKind> Icmp6Table => new()
    {
        { 1, 4, UdpErrorKind.PortUnreachable },
        { 1, 3, UdpErrorKind.HostUnreachable },
        { 1, 0, UdpErrorKind.NetUnreachable },
        { 1, 1, UdpErrorKind.AdminProhibited },
        { 1, 5, UdpErrorKind.AdminProhibited },
        { 1, 6, UdpErrorKind.AdminProhibited },
        { 2, 0, UdpErrorKind.FragmentationNeeded },
        { 3, 0, UdpErrorKind.TtlExceeded },
    };

    [Theory]
    [MemberData(nameof(Icmp4Table))]
    public void FromIcmp_FollowsTheDesignTable(byte type, byte code, UdpErrorKind expected)
    {
        Assert.Equal(expected, UdpErrorKinds.FromIcmp(type, code));
    }

    [Theory]
    [MemberData(nameof(Icmp6Table))]
    public void FromIcmp6_FollowsTheDesignTable(byte type, byte code, UdpErrorKind expected)
    {
        Assert.Equal(expected, UdpErrorKinds.FromIcmp6(type, code));
    }

    [Fact]
    public void FromIcmp_EveryUnlistedTypeCode_IsUnknown()
    {
        var listed = Icmp4Table.Select(row => ((byte)row[0], (byte)row[1])).ToHashSet();

        for (int type = 0; type < 256; type++)
        {
            for (int code = 0; code < 256; code++)
            {
                if (!listed.Contains(((byte)type, (byte)code)))
                {
                    Assert.True(UdpErrorKinds.FromIcmp((byte)type, (byte)code) == UdpErrorKind.Unknown, $"icmp={type}/{code}");
                }
            }
        }
    }

    [Fact]
    public void FromIcmp6_EveryUnlistedTypeCode_IsUnknown()
    {
        var listed = Icmp6Table.Select(row => ((byte)row[0], (byte)row[1])).ToHashSet();

        for (int type = 0; type < 256; type++)
        {
            for (int code = 0; code < 256; code++)
            {
                if (!listed.Contains(((byte)type, (byte)code)))
                {
                    Assert.True(UdpErrorKinds.FromIcmp6((byte)type, (byte)code) == UdpErrorKind.Unknown, $"icmp6={type}/{code}");
                }
            }
        }
    }

    [Theory]
    [InlineData("ECONNREFUSED", UdpErrorKind.PortUnreachable)]
    [InlineData("EHOSTUNREACH", UdpErrorKind.HostUnreachable)]
    [InlineData("ENETUNREACH", UdpErrorKind.NetUnreachable)]
    [InlineData("EACCES", UdpErrorKind.AdminProhibited)]
    [InlineData("ENOPROTOOPT", UdpErrorKind.ProtocolUnreachable)]
    [InlineData("EMSGSIZE", UdpErrorKind.FragmentationNeeded)]
    [InlineData("EPERM", UdpErrorKind.Unknown)]
    [InlineData("ETIMEDOUT", UdpErrorKind.Unknown)]
    [InlineData("econnrefused", UdpErrorKind.Unknown)]
    [InlineData("", UdpErrorKind.Unknown)]
    public void FromErrno_FollowsTheDesignFallback(string errno, UdpErrorKind expected)
    {
        Assert.Equal(expected, UdpErrorKinds.FromErrno(errno));
    }

    [Theory]
    [InlineData(UdpErrorKind.PortUnreachable, "port-unreachable")]
    [InlineData(UdpErrorKind.HostUnreachable, "host-unreachable")]
    [InlineData(UdpErrorKind.NetUnreachable, "net-unreachable")]
    [InlineData(UdpErrorKind.ProtocolUnreachable, "protocol-unreachable")]
    [InlineData(UdpErrorKind.AdminProhibited, "admin-prohibited")]
    [InlineData(UdpErrorKind.FragmentationNeeded, "fragmentation-needed")]
    [InlineData(UdpErrorKind.TtlExceeded, "ttl-exceeded")]
    [InlineData(UdpErrorKind.Unknown, "unknown")]
    public void WireName_IsTheDesignNameAndRoundTrips(UdpErrorKind kind, string name)
    {
        Assert.Equal(name, kind.ToWireName());
        Assert.True(UdpErrorKinds.TryParseWireName(name, out var parsed));
        Assert.Equal(kind, parsed);
    }

    [Fact]
    public void WireName_EveryKindHasItsOwn()
    {
        var names = Enum.GetValues<UdpErrorKind>().Select(k => k.ToWireName()).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, n => Assert.True(n.All(c => c is (>= 'a' and <= 'z') or '-'), n));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Port-Unreachable")]
    [InlineData("port_unreachable")]
    [InlineData("port-unreachable ")]
    [InlineData("refused")]
    public void TryParseWireName_UnknownName_IsFalse(string name)
    {
        Assert.False(UdpErrorKinds.TryParseWireName(name, out _));
    }
}
