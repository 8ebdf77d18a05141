using System.Net;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class SocksAddressTests
{
    [Theory]
    [InlineData("192.0.2.9", 123, AddressType.IPv4, "C0 00 02 09")]
    [InlineData("::ffff:192.0.2.9", 123, AddressType.IPv4, "C0 00 02 09")]
    [InlineData("2001:db8::1", 53, AddressType.IPv6, "20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 01")]
    public void FromIPAddress_WritesIPv4MappedAsIPv4(string address, ushort port, AddressType expectedType, string expectedHex)
    {
        Span<byte> scratch = stackalloc byte[16];

        var socks = SocksAddress.FromIPAddress(IPAddress.Parse(address), port, scratch);

        Assert.Equal(expectedType, socks.Type);
        Assert.Equal(Hex(expectedHex), socks.AddressBytes.ToArray());
        Assert.Equal(port, socks.Port);
    }

    [Fact]
    public void FromIPEndPoint_KeepsAddressAndPort()
    {
        Span<byte> scratch = stackalloc byte[16];

        var socks = SocksAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("203.0.113.7"), 555), scratch);

        Assert.Equal(IPAddress.Parse("203.0.113.7"), socks.ToIPAddress());
        Assert.Equal(555, socks.Port);
    }

    [Fact]
    public void FromIPAddress_ScratchTooSmall_Throws()
    {
        Assert.Throws<ArgumentException>(() => SocksAddress.FromIPAddress(IPAddress.IPv6Loopback, 53, new byte[15]));
    }

    [Theory]
    [InlineData(AddressType.IPv4, "00 00 00 00", true)]
    [InlineData(AddressType.IPv4, "00 00 00 01", false)]
    [InlineData(AddressType.IPv6, "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", true)]
    [InlineData(AddressType.IPv6, "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01", false)]
    [InlineData(AddressType.DomainName, "00", false)]
    public void IsUnspecified_OnlyForAllZeroIPAddresses(AddressType type, string hex, bool expected)
    {
        Assert.Equal(expected, new SocksAddress(type, Hex(hex), 0).IsUnspecified);
    }

    [Fact]
    public void GetHostName_IsByteForByte()
    {
        var socks = new SocksAddress(AddressType.DomainName, WireAddresses.BinaryName, 7);

        string name = socks.GetHostName();

        Assert.Equal(WireAddresses.BinaryName.Length, name.Length);
        Assert.Equal(WireAddresses.BinaryName, name.Select(c => (byte)c).ToArray());
    }

    [Fact]
    public void ToIPAddress_OnName_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => new SocksAddress(AddressType.DomainName, Ascii("a"), 1).ToIPAddress());
    }

    [Fact]
    public void GetHostName_OnIPAddress_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => new SocksAddress(AddressType.IPv4, [1, 2, 3, 4], 1).GetHostName());
    }

    [Theory]
    [InlineData(AddressType.IPv4, "CB 00 71 07", 555, "203.0.113.7:555")]
    [InlineData(AddressType.IPv6, "20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 07", 53, "[2001:db8::7]:53")]
    [InlineData(AddressType.DomainName, "6E 74 70 2E 65 78 61 6D 70 6C 65", 123, "ntp.example:123")]
    [InlineData(AddressType.DomainName, "61 20 62 25 FF", 1, "a%20b%25%FF:1")]
    public void ToString_IsTheNoticeEndpoint(AddressType type, string hex, ushort port, string expected)
    {
        Assert.Equal(expected, new SocksAddress(type, Hex(hex), port).ToString());
    }

    [Fact]
    public void ToString_Of255EscapedBytes_IsComplete()
    {
        var name = Repeat(0xFF, 255);

        string text = new SocksAddress(AddressType.DomainName, name, 65535).ToString();

        Assert.Equal(string.Concat(Enumerable.Repeat("%FF", 255)) + ":65535", text);
    }
}
