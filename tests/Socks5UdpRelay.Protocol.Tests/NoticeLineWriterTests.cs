using System.Net;
using static Socks5UdpRelay.Protocol.Tests.NoticeExamples;

namespace Socks5UdpRelay.Protocol.Tests;

public class NoticeLineWriterTests
{
    [Theory]
    [MemberData(nameof(NoticeExamples.Lines), MemberType = typeof(NoticeExamples))]
    public void DesignExample_IsWrittenExactly(string expected)
    {
        var (verb, fill) = Recipe(expected);

        Assert.Equal(expected, Build(verb, fill));
    }

    [Theory]
    [MemberData(nameof(NoticeExamples.Lines), MemberType = typeof(NoticeExamples))]
    public void DesignExample_InBufferOfExactlyItsLength_IsWritten(string expected)
    {
        var (verb, fill) = Recipe(expected);

        Assert.Equal(expected, Build(verb, fill, expected.Length));
    }

    [Theory]
    [MemberData(nameof(NoticeExamples.Lines), MemberType = typeof(NoticeExamples))]
    public void DesignExample_InEveryTooSmallBuffer_FailsCleanly(string expected)
    {
        var (verb, fill) = Recipe(expected);

        for (int size = 0; size < expected.Length; size++)
        {
            Assert.Null(Build(verb, fill, size));
        }
    }

    [Fact]
    public void IPv6Example_FromSocksAddress_IsWrittenExactly()
    {
        byte[] address = IPAddress.Parse("2001:db8::7").GetAddressBytes();

        string? line = Build(NoticeVerbs.UdpError, (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.IPv6, address, 53));
            w.Add(NoticeKeys.Error, "admin-prohibited");
            w.Add(NoticeKeys.Errno, "EACCES");
            w.AddTypeCode(NoticeKeys.Icmp6, 1, 1);
            w.AddAddress(NoticeKeys.From, IPAddress.Parse("2001:db8::1"));
        });

        Assert.Equal(AdminProhibited6, line);
    }

    [Fact]
    public void IPv4Example_FromSocksAddress_IsWrittenExactly()
    {
        string? line = Build(NoticeVerbs.UdpDenied, static (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.IPv4, [169, 254, 169, 254], 80));
            w.Add(NoticeKeys.Reason, DeniedReasons.Policy);
        });

        Assert.Equal(DeniedByPolicy, line);
    }

    [Theory]
    [InlineData(NoticeVerbs.UdpUnresolved, NoticeKeys.Reason, UnresolvedReasons.NoSuchName, "UDP-UNRESOLVED dst=ntp.example:123 reason=no-such-name\n")]
    [InlineData(NoticeVerbs.UdpDenied, NoticeKeys.Reason, DeniedReasons.Fragmented, "UDP-DENIED dst=ntp.example:123 reason=fragmented\n")]
    public void OtherVerbs_AreWrittenAsSpecified(string verb, string key, string value, string expected)
    {
        string? line = Build(verb, (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, "ntp.example"u8, 123));
            w.Add(key, value);
        });

        Assert.Equal(expected, line);
    }

    [Fact]
    public void Closing_IsWrittenAsSpecified()
    {
        Assert.Equal("CLOSING reason=idle-timeout\n", Build(NoticeVerbs.Closing, static (ref NoticeLineWriter w) => w.Add(NoticeKeys.Reason, ClosingReasons.IdleTimeout)));
    }

    [Fact]
    public void FragmentationNeeded_CarriesMtuAndSuppressed()
    {
        string? line = Build(NoticeVerbs.UdpError, static (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, IPAddress.Parse("198.51.100.1"), 4500);
            w.Add(NoticeKeys.Error, UdpErrorKind.FragmentationNeeded.ToWireName());
            w.Add(NoticeKeys.Errno, "EMSGSIZE");
            w.AddTypeCode(NoticeKeys.Icmp, 3, 4);
            w.AddAddress(NoticeKeys.From, IPAddress.Parse("10.0.0.1"));
            w.Add(NoticeKeys.Mtu, 1280);
            w.Add(NoticeKeys.Suppressed, 0);
        });

        Assert.Equal("UDP-ERROR dst=198.51.100.1:4500 error=fragmentation-needed errno=EMSGSIZE icmp=3/4 from=10.0.0.1 mtu=1280 suppressed=0\n", line);
    }

    [Theory]
    [InlineData("::ffff:203.0.113.7", "from=203.0.113.7")]
    [InlineData("::ffff:10.0.0.1", "from=10.0.0.1")]
    [InlineData("fd00::1", "from=fd00::1")]
    [InlineData("10.0.0.1", "from=10.0.0.1")]
    public void From_IsBareAndIPv4MappedIsIPv4(string address, string expectedField)
    {
        string? line = Build("X", (ref NoticeLineWriter w) => w.AddAddress(NoticeKeys.From, IPAddress.Parse(address)));

        Assert.Equal($"X {expectedField}\n", line);
    }

    [Theory]
    [InlineData("::ffff:203.0.113.7", 555, "dst=203.0.113.7:555")]
    [InlineData("2001:db8::7", 53, "dst=[2001:db8::7]:53")]
    [InlineData("0.0.0.0", 0, "dst=0.0.0.0:0")]
    [InlineData("255.255.255.255", 65535, "dst=255.255.255.255:65535")]
    public void IPEndpoint_IsWrittenAsDesignSays(string address, int port, string expectedField)
    {
        string? line = Build("X", (ref NoticeLineWriter w) => w.AddEndpoint(NoticeKeys.Destination, IPAddress.Parse(address), port));

        Assert.Equal($"X {expectedField}\n", line);
    }

    [Theory]
    [InlineData("61 20 62", "a%20b")]
    [InlineData("25", "%25")]
    [InlineData("3D", "%3D")]
    [InlineData("FF", "%FF")]
    [InlineData("3A", "%3A")]
    [InlineData("00 0A 0D 7F", "%00%0A%0D%7F")]
    [InlineData("5B 3A 3A 31 5D", "%5B%3A%3A1%5D")]
    [InlineData("41 5A 61 7A 30 39 2E 2D 5F", "AZaz09.-_")]
    public void NameEndpoint_EscapesBytesOutsideThePlainSet(string nameHex, string expectedName)
    {
        byte[] name = TestBytes.Hex(nameHex);

        string? line = Build("X", (ref NoticeLineWriter w) => w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, name, 53)));

        Assert.Equal($"X dst={expectedName}:53\n", line);
    }

    [Fact]
    public void LongestName_AllEscaped_FitsWithEveryErrorKey()
    {
        byte[] name = TestBytes.Repeat(0xFF, 255);

        string? line = Build(NoticeVerbs.UdpError, (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, name, 65535));
            w.AddEndpoint(NoticeKeys.Address, IPAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 65535);
            w.Add(NoticeKeys.Error, UdpErrorKind.FragmentationNeeded.ToWireName());
            w.Add(NoticeKeys.Errno, "EMSGSIZE");
            w.AddTypeCode(NoticeKeys.Icmp6, 255, 255);
            w.AddAddress(NoticeKeys.From, IPAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
            w.Add(NoticeKeys.Mtu, 65535);
            w.Add(NoticeKeys.Suppressed, long.MaxValue);
        });

        Assert.NotNull(line);
        Assert.True(line.Length <= NoticeFormat.MaxLineLength, $"{line.Length} bytes");
        Assert.StartsWith("UDP-ERROR dst=" + string.Concat(Enumerable.Repeat("%FF", 255)) + ":65535 addr=", line);
    }

    [Fact]
    public void LongestName_AllEscaped_FitsWhenWrittenLast()
    {
        byte[] name = TestBytes.Repeat((byte)' ', 255);

        string? line = Build(NoticeVerbs.UdpError, (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Address, IPAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 65535);
            w.Add(NoticeKeys.Error, UdpErrorKind.ProtocolUnreachable.ToWireName());
            w.Add(NoticeKeys.Errno, "ECONNREFUSED");
            w.AddTypeCode(NoticeKeys.Icmp, 255, 255);
            w.AddAddress(NoticeKeys.From, IPAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
            w.Add(NoticeKeys.Suppressed, long.MaxValue);
            w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, name, 65535));
        });

        Assert.NotNull(line);
        Assert.EndsWith(" dst=" + string.Concat(Enumerable.Repeat("%20", 255)) + ":65535\n", line);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("a=b")]
    [InlineData("=")]
    [InlineData(" ")]
    [InlineData("a\tb")]
    [InlineData("a\nb")]
    [InlineData("a\r")]
    [InlineData("\0")]
    [InlineData("\u001F")]
    [InlineData("\u007F")]
    [InlineData("caf\u00E9")]
    [InlineData("\u20AC")]
    public void ValueThatWouldBreakTheLine_MakesTryCompleteFail(string value)
    {
        Assert.Null(Build(NoticeVerbs.UdpError, (ref NoticeLineWriter w) =>
        {
            w.Add(NoticeKeys.Error, "unknown");
            w.Add(NoticeKeys.Errno, value);
            w.Add(NoticeKeys.Suppressed, 1);
        }));
    }

    [Theory]
    [InlineData("!")]
    [InlineData("~")]
    [InlineData("a/b:c[d]%e")]
    [InlineData("")]
    public void ValueOfPrintableAscii_IsKept(string value)
    {
        Assert.Equal($"X k={value}\n", Build("X", (ref NoticeLineWriter w) => w.Add("k", value)));
    }

    [Fact]
    public void EmptyKey_MakesTryCompleteFail()
    {
        Assert.Null(Build("X", static (ref NoticeLineWriter w) => w.Add(string.Empty, "v")));
    }

    [Fact]
    public void VerbAlone_IsALine()
    {
        Assert.Equal("CLOSING\n", Build(NoticeVerbs.Closing, static (ref NoticeLineWriter _) => { }));
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(1280, "1280")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    public void Number_IsWrittenInDecimal(long value, string expected)
    {
        Assert.Equal($"X n={expected}\n", Build("X", (ref NoticeLineWriter w) => w.Add("n", value)));
    }

    [Theory]
    [InlineData(0, 0, "0/0")]
    [InlineData(3, 13, "3/13")]
    [InlineData(255, 255, "255/255")]
    public void TypeCode_IsTypeSlashCode(byte type, byte code, string expected)
    {
        Assert.Equal($"X icmp={expected}\n", Build("X", (ref NoticeLineWriter w) => w.AddTypeCode(NoticeKeys.Icmp, type, code)));
    }

    /// <summary>Each kind of field, written last, after a filler field of a given length.</summary>
    public static TheoryData<string, string> LastFields => new()
    {
        { "from", " from=203.0.113.7" },
        { "from6", " from=2001:db8::1" },
        { "addr", " addr=192.0.2.9:123" },
        { "dst-name", " dst=ntp.example:123" },
        { "dst-ip", " dst=203.0.113.7:555" },
        { "icmp", " icmp=3/3" },
        { "mtu", " mtu=1280" },
        { "text", " reason=policy" },
    };

    private static void AddLastField(ref NoticeLineWriter w, string kind)
    {
        switch (kind)
        {
            case "from": w.AddAddress(NoticeKeys.From, IPAddress.Parse("203.0.113.7")); break;
            case "from6": w.AddAddress(NoticeKeys.From, IPAddress.Parse("2001:db8::1")); break;
            case "addr": w.AddEndpoint(NoticeKeys.Address, IPAddress.Parse("192.0.2.9"), 123); break;
            case "dst-name": w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, "ntp.example"u8, 123)); break;
            case "dst-ip": w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.IPv4, [203, 0, 113, 7], 555)); break;
            case "icmp": w.AddTypeCode(NoticeKeys.Icmp, 3, 3); break;
            case "mtu": w.Add(NoticeKeys.Mtu, 1280); break;
            default: w.Add(NoticeKeys.Reason, "policy"); break;
        }
    }

    [Theory]
    [MemberData(nameof(LastFields))]
    public void LineOfExactly1024Bytes_IsWritten(string kind, string lastField)
    {
        // "UDP-ERROR x=" + filler + last field + "\n" = 1024
        int filler = NoticeFormat.MaxLineLength - "UDP-ERROR x=".Length - lastField.Length - 1;
        string fill = new('a', filler);

        string? line = Build(NoticeVerbs.UdpError, (ref NoticeLineWriter w) =>
        {
            w.Add("x", fill);
            AddLastField(ref w, kind);
        }, 4096);

        Assert.Equal($"UDP-ERROR x={fill}{lastField}\n", line);
        Assert.Equal(NoticeFormat.MaxLineLength, line!.Length);
    }

    [Theory]
    [MemberData(nameof(LastFields))]
    public void LineOf1025Bytes_FailsEvenInALargerBuffer(string kind, string lastField)
    {
        string fill = new('a', NoticeFormat.MaxLineLength - "UDP-ERROR x=".Length - lastField.Length);

        Assert.Null(Build(NoticeVerbs.UdpError, (ref NoticeLineWriter w) =>
        {
            w.Add("x", fill);
            AddLastField(ref w, kind);
        }, 4096));
    }

    [Fact]
    public void AfterAFailure_LaterFieldsDoNotRescueTheLine()
    {
        var buffer = new byte[NoticeFormat.MaxLineLength];
        var writer = new NoticeLineWriter(buffer, NoticeVerbs.UdpDenied);
        writer.Add(NoticeKeys.Reason, "bad value");
        writer.AddEndpoint(NoticeKeys.Destination, IPAddress.Loopback, 53);
        writer.Add(NoticeKeys.Suppressed, 3);

        Assert.False(writer.TryComplete(out int length));
        Assert.Equal(0, length);
    }

    [Theory]
    [InlineData("UDP ERROR", "k")]
    [InlineData("VERB", "a b")]
    [InlineData("VERB", "k=v")]
    [InlineData("VERB", "ké")]
    [InlineData("", "k")]
    [InlineData("VERB", "")]
    public void VerbOrKeyThatWouldBreakTheLine_FailsTheLine(string verb, string key)
    {
        Span<byte> buffer = stackalloc byte[NoticeFormat.MaxLineLength];
        var writer = new NoticeLineWriter(buffer, verb);
        writer.Add(key, "v");
        Assert.False(writer.TryComplete(out _));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public void EndpointPortOutOfRange_FailsTheLine(int port)
    {
        Span<byte> buffer = stackalloc byte[NoticeFormat.MaxLineLength];
        var writer = new NoticeLineWriter(buffer, "UDP-ERROR");
        writer.AddEndpoint("dst", IPAddress.Loopback, port);
        Assert.False(writer.TryComplete(out _));
    }

    [Theory]
    [InlineData("1.2.3.4:5", "X dst=1.2.3.4:5\n")]
    [InlineData("a%20b:1", "X dst=a%20b:1\n")]
    [InlineData("", "X dst=\n")]
    [InlineData("a b", null)]
    [InlineData("a=b", null)]
    [InlineData("a\u0001", null)]
    public void AddRaw_KeepsValueBytes_AndRefusesOthers(string value, string? expected)
    {
        byte[] bytes = System.Text.Encoding.Latin1.GetBytes(value);

        Assert.Equal(expected, Build("X", (ref NoticeLineWriter w) => w.AddRaw(NoticeKeys.Destination, bytes)));
    }

    [Theory]
    [InlineData("PING", "X verb=PING\n")]
    [InlineData("A%B:", "X verb=A%25B%3A\n")]
    public void AddEscapedName_EscapesAsNamesAre(string name, string expected)
    {
        byte[] bytes = System.Text.Encoding.Latin1.GetBytes(name);

        Assert.Equal(expected, Build("X", (ref NoticeLineWriter w) => w.AddEscapedName("verb", bytes)));
    }

    [Fact]
    public void AddEscapedName_LongerThanAName_Fails()
    {
        byte[] bytes = TestBytes.Repeat((byte)'a', 256);

        Assert.Null(Build("X", (ref NoticeLineWriter w) => w.AddEscapedName("verb", bytes)));
    }
}
