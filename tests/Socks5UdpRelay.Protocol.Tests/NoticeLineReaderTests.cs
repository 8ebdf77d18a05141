using System.Text;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class NoticeLineReaderTests
{
    private static (string Verb, List<(string Key, string Value)> Fields, bool WellFormed) ReadAll(byte[] line)
    {
        var reader = new NoticeLineReader(line);
        var fields = new List<(string, string)>();
        while (reader.TryReadField(out var key, out var value))
        {
            fields.Add((Encoding.Latin1.GetString(key), Encoding.Latin1.GetString(value)));
        }

        return (Encoding.Latin1.GetString(reader.Verb), fields, reader.IsWellFormed);
    }

    [Fact]
    public void PortUnreachableExample_ReadsVerbAndFieldsInOrder()
    {
        var (verb, fields, wellFormed) = ReadAll(Ascii(NoticeExamples.PortUnreachable));

        Assert.True(wellFormed);
        Assert.Equal("UDP-ERROR", verb);
        Assert.Equal(
            [("dst", "203.0.113.7:555"), ("error", "port-unreachable"), ("errno", "ECONNREFUSED"), ("icmp", "3/3"), ("from", "203.0.113.7")],
            fields);
    }

    [Theory]
    [MemberData(nameof(NoticeExamples.Lines), MemberType = typeof(NoticeExamples))]
    public void EveryExample_ReadsBackItsTokens(string line)
    {
        string[] tokens = line.TrimEnd('\n').Split(' ');

        var (verb, fields, wellFormed) = ReadAll(Ascii(line));

        Assert.True(wellFormed);
        Assert.Equal(tokens[0], verb);
        Assert.Equal(tokens[1..], fields.Select(f => $"{f.Key}={f.Value}"));
    }

    [Theory]
    [InlineData("NOTICES version=1\n")]
    [InlineData("NOTICES version=1\r\n")]
    [InlineData("NOTICES version=1")]
    public void LineEnd_IsOptionalAndCrlfIsTolerated(string line)
    {
        var (verb, fields, _) = ReadAll(Ascii(line));

        Assert.Equal("NOTICES", verb);
        Assert.Equal([("version", "1")], fields);
    }

    [Theory]
    [InlineData("CLOSING\n")]
    [InlineData("CLOSING\r\n")]
    [InlineData("CLOSING")]
    public void VerbAlone_HasNoFields(string line)
    {
        var (verb, fields, wellFormed) = ReadAll(Ascii(line));

        Assert.True(wellFormed);
        Assert.Equal("CLOSING", verb);
        Assert.Empty(fields);
    }

    [Theory]
    [InlineData("X flag a=1\n")]
    [InlineData("X a=1 flag\n")]
    [InlineData("X =0 a=1\n")]
    [InlineData("X  a=1\n")]
    [InlineData("X a=1 \n")]
    public void TokensWithoutKey_AreSkipped(string line)
    {
        var (_, fields, _) = ReadAll(Ascii(line));

        Assert.Equal([("a", "1")], fields);
    }

    [Fact]
    public void ValueMayBeEmptyOrHoldFurtherEquals()
    {
        var (_, fields, _) = ReadAll(Ascii("X a= b=c=d future-key=x\n"));

        Assert.Equal([("a", ""), ("b", "c=d"), ("future-key", "x")], fields);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData(" NOTICES version=1\n")]
    [InlineData("NOT\tICES version=1\n")]
    [InlineData("NO=TICES\n")]
    public void LineWithoutPrintableVerb_IsNotWellFormed(string line)
    {
        Assert.False(new NoticeLineReader(Ascii(line)).IsWellFormed);
    }

    [Fact]
    public void VerbWithHighByte_IsNotWellFormed()
    {
        Assert.False(new NoticeLineReader([0x58, 0xFF, 0x0A]).IsWellFormed);
    }
}
