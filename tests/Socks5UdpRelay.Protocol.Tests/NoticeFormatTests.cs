using System.Net;
using System.Text;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class NoticeFormatTests
{
    private static string Escape(byte[] name)
    {
        var buffer = new byte[name.Length * 3];
        return Encoding.ASCII.GetString(buffer, 0, NoticeFormat.EscapeName(buffer, name));
    }

    [Fact]
    public void IsPlainNameByte_IsExactlyLettersDigitsDotHyphenUnderscore()
    {
        for (int b = 0; b < 256; b++)
        {
            bool expected = b is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '-' or '_';
            Assert.True(expected == NoticeFormat.IsPlainNameByte((byte)b), $"byte 0x{b:X2}");
        }
    }

    [Fact]
    public void IsValueByte_IsPrintableAsciiButSpaceAndEquals()
    {
        for (int b = 0; b < 256; b++)
        {
            bool expected = b is > 0x20 and < 0x7F && b != '=';
            Assert.True(expected == NoticeFormat.IsValueByte((byte)b), $"byte 0x{b:X2}");
        }
    }

    [Theory]
    [InlineData("61 20 62", "a%20b")]
    [InlineData("25", "%25")]
    [InlineData("3D", "%3D")]
    [InlineData("FF", "%FF")]
    [InlineData("00", "%00")]
    [InlineData("3A 2F 5B 5D", "%3A%2F%5B%5D")]
    [InlineData("6E 74 70 2E 65 78 61 6D 70 6C 65", "ntp.example")]
    [InlineData("41 2D 5F 2E 7A", "A-_.z")]
    public void EscapeName_WritesPercentHexForBytesOutsideThePlainSet(string nameHex, string expected)
    {
        Assert.Equal(expected, Escape(Hex(nameHex)));
    }

    [Fact]
    public void EscapeThenUnescape_RoundTripsEveryByte()
    {
        byte[] all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var escaped = new byte[all.Length * 3];
        int escapedLength = NoticeFormat.EscapeName(escaped, all);
        var raw = new byte[all.Length];

        Assert.True(NoticeFormat.TryUnescapeName(escaped.AsSpan(0, escapedLength), raw, out int written));

        Assert.Equal(all, raw[..written]);
        Assert.All(escaped[..escapedLength], b => Assert.True(NoticeFormat.IsValueByte(b)));
    }

    [Theory]
    [InlineData("%ff", "FF")]
    [InlineData("%2a%2A", "2A 2A")]
    public void Unescape_AcceptsEitherHexCase(string escaped, string expectedHex)
    {
        var raw = new byte[escaped.Length];

        Assert.True(NoticeFormat.TryUnescapeName(Ascii(escaped), raw, out int written));
        Assert.Equal(Hex(expectedHex), raw[..written]);
    }

    [Theory]
    [InlineData("%")]
    [InlineData("a%")]
    [InlineData("%4")]
    [InlineData("a%4")]
    [InlineData("%G0")]
    [InlineData("%0G")]
    [InlineData("%%41")]
    [InlineData("% 1")]
    public void Unescape_MalformedPercent_IsFalse(string escaped)
    {
        Assert.False(NoticeFormat.TryUnescapeName(Ascii(escaped), new byte[escaped.Length], out _));
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("fd00::1", "fd00::1")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("::", "::")]
    public void FormatAddress_IsBareWithMappedAsIPv4(string address, string expected)
    {
        var buffer = new byte[NoticeFormat.MaxAddressLength];

        int n = NoticeFormat.FormatAddress(buffer, IPAddress.Parse(address));

        Assert.Equal(expected, Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Theory]
    [InlineData("1.2.3.4", 53, "1.2.3.4:53")]
    [InlineData("::ffff:1.2.3.4", 53, "1.2.3.4:53")]
    [InlineData("2001:db8::1", 53, "[2001:db8::1]:53")]
    [InlineData("::1", 65535, "[::1]:65535")]
    [InlineData("0.0.0.0", 0, "0.0.0.0:0")]
    public void FormatEndpoint_IsAsDesignSays(string address, int port, string expected)
    {
        Assert.Equal(expected, NoticeFormat.FormatEndpoint(IPAddress.Parse(address), port));
    }

    [Theory]
    [InlineData(0, 0, 0, 0)]
    [InlineData(1, 2, 3, 4)]
    [InlineData(10, 0, 0, 1)]
    [InlineData(100, 20, 3, 255)]
    [InlineData(255, 255, 255, 255)]
    public void FormatEndpoint_OfWireIPv4_MatchesIPAddressText(byte a, byte b, byte c, byte d)
    {
        var buffer = new byte[NoticeFormat.MaxEndpointLength];
        byte[] bytes = [a, b, c, d];

        int n = NoticeFormat.FormatEndpoint(buffer, new SocksAddress(AddressType.IPv4, bytes, 8080));

        Assert.Equal($"{new IPAddress(bytes)}:8080", Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public void MaxEndpointLength_HoldsTheLongestEscapedName()
    {
        var buffer = new byte[NoticeFormat.MaxEndpointLength];

        int n = NoticeFormat.FormatEndpoint(buffer, new SocksAddress(AddressType.DomainName, Repeat(0x00, 255), 65535));

        Assert.Equal(NoticeFormat.MaxEndpointLength, n);
    }

    [Theory]
    [InlineData("203.0.113.7:555", "203.0.113.7", "203.0.113.7", 555)]
    [InlineData("0.0.0.0:0", "0.0.0.0", "0.0.0.0", 0)]
    [InlineData("[2001:db8::7]:53", "2001:db8::7", "2001:db8::7", 53)]
    [InlineData("[::1]:65535", "::1", "::1", 65535)]
    public void TryParseEndpoint_IPAddress(string value, string expectedHost, string expectedAddress, ushort expectedPort)
    {
        Assert.True(NoticeFormat.TryParseEndpoint(value, out string host, out var address, out ushort port));

        Assert.Equal(expectedHost, host);
        Assert.Equal(IPAddress.Parse(expectedAddress), address);
        Assert.Equal(expectedPort, port);
    }

    [Theory]
    [InlineData("ntp.example:123", "ntp.example", 123)]
    [InlineData("localhost:7", "localhost", 7)]
    [InlineData("a%20b:1", "a b", 1)]
    [InlineData("%25%3D%3A:2", "%=:", 2)]
    [InlineData("x%ff:3", "x\u00FF", 3)]
    [InlineData("1.2.3:4", "1.2.3", 4)]
    public void TryParseEndpoint_NameIsUnescaped(string value, string expectedHost, ushort expectedPort)
    {
        Assert.True(NoticeFormat.TryParseEndpoint(value, out string host, out var address, out ushort port));

        Assert.Equal(expectedHost, host);
        Assert.Null(address);
        Assert.Equal(expectedPort, port);
    }

    [Theory]
    [InlineData("a/b:1", "a/b")]
    [InlineData("a~b:1", "a~b")]
    public void TryParseEndpoint_NameWithUnescapedPrintableBytes_IsReadLeniently(string value, string expectedHost)
    {
        // A server escapes these, but a reader has no reason to reject them.
        Assert.True(NoticeFormat.TryParseEndpoint(value, out string host, out _, out _));
        Assert.Equal(expectedHost, host);
    }

    [Fact]
    public void TryParseEndpoint_LongestEscapedName_RoundTrips()
    {
        byte[] name = Enumerable.Range(0, 255).Select(i => (byte)(255 - i)).ToArray();
        var buffer = new byte[NoticeFormat.MaxEndpointLength];
        int n = NoticeFormat.FormatEndpoint(buffer, new SocksAddress(AddressType.DomainName, name, 65535));

        Assert.True(NoticeFormat.TryParseEndpoint(Encoding.ASCII.GetString(buffer, 0, n), out string host, out var address, out ushort port));

        Assert.Equal(name, Encoding.Latin1.GetBytes(host));
        Assert.Null(address);
        Assert.Equal(65535, port);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3.4")]
    [InlineData("ntp.example")]
    [InlineData("1.2.3.4:")]
    [InlineData(":53")]
    [InlineData("1.2.3.4:70000")]
    [InlineData("1.2.3.4:65536")]
    [InlineData("name:-1")]
    [InlineData("name:+5")]
    [InlineData("name: 5")]
    [InlineData("name:5x")]
    [InlineData("2001:db8::1:53")]
    [InlineData("[2001:db8::1]")]
    [InlineData("[2001:db8::1]:")]
    [InlineData("[1.2.3.4]:53")]
    [InlineData("[zz]:53")]
    [InlineData("a%2:1")]
    [InlineData("a%zz:1")]
    [InlineData("%:1")]
    [InlineData("caf\u00E9:1")]
    public void TryParseEndpoint_Malformed_IsFalse(string value)
    {
        Assert.False(NoticeFormat.TryParseEndpoint(value, out _, out _, out _));
    }

    [Fact]
    public void TryParseEndpoint_NameOf256Bytes_IsFalse()
    {
        string value = string.Concat(Enumerable.Repeat("%41", 256)) + ":1";

        Assert.False(NoticeFormat.TryParseEndpoint(value, out _, out _, out _));
    }

    [Theory]
    [InlineData("[]:53")]
    [InlineData("a[b:53")]
    public void TryParseEndpoint_NameWithBrackets_IsRejected(string value)
    {
        Assert.False(NoticeFormat.TryParseEndpoint(value, out _, out _, out _));
    }
}
