using System.Net;
using System.Net.Sockets;
using System.Text;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary><see cref="NoticeFormat.TryParseEndpoint(ReadOnlySpan{byte}, Span{byte}, out SocksAddress)"/>: endpoint values read without allocating.</summary>
public class EndpointBytesTests
{
    private static (AddressType Type, byte[] Bytes, ushort Port)? Parse(string value)
    {
        Span<byte> scratch = stackalloc byte[NoticeFormat.EndpointScratchLength];
        return NoticeFormat.TryParseEndpoint(Encoding.Latin1.GetBytes(value), scratch, out var address)
            ? (address.Type, address.AddressBytes.ToArray(), address.Port)
            : null;
    }

    [Theory]
    [InlineData("0.0.0.0:0")]
    [InlineData("1.2.3.4:53")]
    [InlineData("255.255.255.255:65535")]
    [InlineData("[::]:1")]
    [InlineData("[::1]:53")]
    [InlineData("[2001:db8::7]:53")]
    [InlineData("[2001:DB8:0:0:8:800:200C:417A]:80")]
    [InlineData("[::ffff:192.0.2.1]:80")]
    [InlineData("[::13.1.68.3]:80")]
    [InlineData("[1::]:80")]
    [InlineData("[1:2:3:4:5:6:7::]:80")]
    [InlineData("[::2:3:4:5:6:7:8]:80")]
    [InlineData("[1:2:3:4:5:6:1.2.3.4]:80")]
    [InlineData("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:80")]
    [InlineData("1.2.3.4:00053")]
    public void IPEndpoint_ReadsTheAddressIPAddressReads(string value)
    {
        var parsed = Parse(value);

        Assert.NotNull(parsed);
        int colon = value.LastIndexOf(':');
        var expected = IPAddress.Parse(value[..colon].Trim('[', ']'));
        Assert.Equal(expected.AddressFamily == AddressFamily.InterNetwork ? AddressType.IPv4 : AddressType.IPv6, parsed.Value.Type);
        Assert.Equal(expected.GetAddressBytes(), parsed.Value.Bytes);
        Assert.Equal(ushort.Parse(value[(colon + 1)..]), parsed.Value.Port);
    }

    [Theory]
    [InlineData("ntp.example:123", "ntp.example")]
    [InlineData("a%20b:1", "a b")]
    [InlineData("%3A%5B%5D:1", ":[]")]
    [InlineData("1.2.3:4", "1.2.3")]
    [InlineData("1.2.3.4.5:4", "1.2.3.4.5")]
    [InlineData("256.1.1.1:4", "256.1.1.1")]
    [InlineData("01.2.3.4:4", "01.2.3.4")]
    [InlineData("1.2.3.04:4", "1.2.3.04")]
    [InlineData("a~b/c:1", "a~b/c")]
    public void Name_IsUnescaped(string value, string expected)
    {
        var parsed = Parse(value);

        Assert.NotNull(parsed);
        Assert.Equal(AddressType.DomainName, parsed.Value.Type);
        Assert.Equal(expected, Encoding.Latin1.GetString(parsed.Value.Bytes));
    }

    [Theory]
    [InlineData("")]
    [InlineData(":")]
    [InlineData(":53")]
    [InlineData("1.2.3.4")]
    [InlineData("1.2.3.4:")]
    [InlineData("1.2.3.4:65536")]
    [InlineData("1.2.3.4:-1")]
    [InlineData("1.2.3.4:+1")]
    [InlineData("1.2.3.4:000053")]
    [InlineData("[::1]")]
    [InlineData("[::1]:")]
    [InlineData("[]:53")]
    [InlineData("[:]:53")]
    [InlineData("[:::]:53")]
    [InlineData("[1:2]:53")]
    [InlineData("[1::2::3]:53")]
    [InlineData("[12345::]:53")]
    [InlineData("[1:2:3:4:5:6:7:8:9]:53")]
    [InlineData("[1:2:3:4:5:6:7:8::]:53")]
    [InlineData("[::1:2:3:4:5:6:7:8]:53")]
    [InlineData("[1:2:3:4:5:6:7:1.2.3.4]:53")]
    [InlineData("[::1.2.3]:53")]
    [InlineData("[::1.2.3.256]:53")]
    [InlineData("[::1.2.3.4:5]:53")]
    [InlineData("[1.2.3.4]:53")]
    [InlineData("[fe80::1%eth0]:53")]
    [InlineData("[fe80::1%251]:53")]
    [InlineData("[g::1]:53")]
    [InlineData("[::1]x:53")]
    [InlineData("x[::1]:53")]
    [InlineData("a[b:53")]
    [InlineData("a]b:53")]
    [InlineData("2001:db8::1:53")]
    [InlineData("a%2:1")]
    [InlineData("a%zz:1")]
    [InlineData("%:1")]
    public void Malformed_IsFalse(string value)
    {
        Assert.Null(Parse(value));
    }

    [Fact]
    public void NameOf255Bytes_Parses_256_IsFalse()
    {
        Assert.NotNull(Parse(new string('a', 255) + ":1"));
        Assert.Null(Parse(new string('a', 256) + ":1"));
        Assert.Null(Parse(string.Concat(Enumerable.Repeat("%41", 256)) + ":1"));
    }

    [Fact]
    public void IPv6_AgreesWithIPAddress_OnGeneratedText()
    {
        // Text built from the pieces IPv6 is written with, right and wrong: wherever this parser
        // says yes, IPAddress must agree on every byte; where IPAddress says yes, so must this one
        // (IPAddress also takes zones and brackets, which never reach here).
        var random = new Random(4291);
        string[] pieces = ["0", "1", "ff", "FFFF", "abcd", "12345", "g", ":", "::", ":::", "1.2.3.4", "255.255.255.255", "1.2.3", "01.2.3.4", "."];
        int agreedYes = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var text = new StringBuilder();
            int count = random.Next(1, 12);
            for (int j = 0; j < count; j++)
            {
                text.Append(pieces[random.Next(pieces.Length)]);
                if (random.Next(3) > 0)
                {
                    text.Append(':');
                }
            }

            string candidate = text.ToString();
            var mine = Parse($"[{candidate}]:1");
            bool theirs = IPAddress.TryParse(candidate, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;
            if (mine is { } parsed)
            {
                Assert.True(theirs, $"'{candidate}' parsed here but not by IPAddress");
                Assert.Equal(address!.GetAddressBytes(), parsed.Bytes);
                agreedYes++;
            }
            else
            {
                Assert.False(theirs && !candidate.Contains("01.2.3.4", StringComparison.Ordinal), $"'{candidate}' parsed by IPAddress ({address}) but not here");
            }
        }

        Assert.True(agreedYes > 100, $"only {agreedYes} valid candidates");
    }

    [Fact]
    public void CharOverload_IsTheSameParser()
    {
        Assert.True(NoticeFormat.TryParseEndpoint("[::ffff:192.0.2.1]:80", out string host, out var address, out ushort port));
        Assert.Equal(IPAddress.Parse("::ffff:192.0.2.1"), address);
        Assert.Equal(address!.ToString(), host);
        Assert.Equal(80, port);
        Assert.True(NoticeFormat.TryParseEndpoint("01.2.3.4:4", out host, out address, out _));
        Assert.Null(address);
        Assert.Equal("01.2.3.4", host);
    }

    [Fact]
    public void Parse_AllocatesNothing()
    {
        byte[][] values = [Ascii("203.0.113.7:555"), Ascii("[2001:db8::7]:53"), Ascii("[::ffff:1.2.3.4]:1"), Ascii("ntp%2Eexample:123"), Ascii("[zz]:1")];
        byte[] scratch = new byte[NoticeFormat.EndpointScratchLength];
        int parsed = RunAll();

        long before = GC.GetAllocatedBytesForCurrentThread();
        parsed += RunAll();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(2 * 100 * 4, parsed);

        int RunAll()
        {
            int n = 0;
            for (int i = 0; i < 100; i++)
            {
                foreach (byte[] value in values)
                {
                    n += NoticeFormat.TryParseEndpoint(value, scratch, out _) ? 1 : 0;
                }
            }

            return n;
        }
    }
}
