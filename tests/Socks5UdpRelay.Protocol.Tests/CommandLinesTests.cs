using System.Net;
using System.Text;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>Commands written by a client and read by a server; answers written by a server and read by a client.</summary>
public class CommandLinesTests
{
    private const OfferedCommands All = OfferedCommands.Set | OfferedCommands.Map;

    private delegate int LineWriter(Span<byte> buffer);

    private static string Write(LineWriter write, int bufferLength = NoticeFormat.MaxLineLength)
    {
        var buffer = new byte[bufferLength];
        return Encoding.ASCII.GetString(buffer, 0, write(buffer));
    }

    [Theory]
    [InlineData("203.0.113.7", 555, 5, 0, "SET dst=203.0.113.7:555 ttl=5\n")]
    [InlineData("2001:db8::7", 53, 0, 3, "SET dst=[2001:db8::7]:53 ttl=default map=3\n")]
    [InlineData("::ffff:10.0.0.1", 1, 255, 65535, "SET dst=10.0.0.1:1 ttl=255 map=65535\n")]
    public void WriteSet_IP_IsExact_AndParsesBack(string address, ushort port, int ttl, ushort mapping, string expected)
    {
        Span<byte> scratch = stackalloc byte[16];
        var destination = SocksAddress.FromIPAddress(IPAddress.Parse(address), port, scratch);

        string line = Write(b => ClientCommandWriter.WriteSet(b, SocksAddress.FromIPAddress(IPAddress.Parse(address), port, new byte[16]), ttl, mapping));

        Assert.Equal(expected, line);
        Span<byte> parseScratch = stackalloc byte[ClientCommandParser.ScratchLength];
        Assert.Equal(ClientCommandStatus.Valid, ClientCommandParser.Parse(Ascii(line), All, parseScratch, out var command));
        Assert.Equal(destination.Type, command.Destination.Type);
        Assert.Equal(destination.AddressBytes.ToArray(), command.Destination.AddressBytes.ToArray());
        Assert.Equal(port, command.Destination.Port);
        Assert.Equal(ttl, command.Ttl);
        Assert.Equal(mapping, command.Mapping);
    }

    [Fact]
    public void WriteSet_EveryNameByte_RoundTrips()
    {
        byte[] name = Enumerable.Range(0, 255).Select(i => (byte)(i + 1)).ToArray();
        string line = Write(b => ClientCommandWriter.WriteSet(b, new SocksAddress(AddressType.DomainName, name, 65535), 64, 1));
        Span<byte> scratch = stackalloc byte[ClientCommandParser.ScratchLength];

        Assert.True(line.Length <= NoticeFormat.MaxLineLength);
        Assert.Equal(ClientCommandStatus.Valid, ClientCommandParser.Parse(Ascii(line), All, scratch, out var command));
        Assert.Equal(name, command.Destination.AddressBytes.ToArray());
        Assert.Equal(64, command.Ttl);
        Assert.Equal(1, command.Mapping);
    }

    [Fact]
    public void WriteMapAndUnmap_AreExact_AndParseBack()
    {
        Span<byte> scratch = stackalloc byte[ClientCommandParser.ScratchLength];

        Assert.Equal("MAP\n", Write(ClientCommandWriter.WriteMap));
        Assert.Equal("UNMAP map=42\n", Write(b => ClientCommandWriter.WriteUnmap(b, 42)));
        Assert.Equal(ClientCommandStatus.Valid, ClientCommandParser.Parse("UNMAP map=42\n"u8, All, scratch, out var unmap));
        Assert.Equal(42, unmap.Mapping);
    }

    [Fact]
    public void Writers_RefuseWhatNoServerWouldTake()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Write(b => ClientCommandWriter.WriteSet(b, new SocksAddress(AddressType.IPv4, new byte[4], 53), 256, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Write(b => ClientCommandWriter.WriteSet(b, new SocksAddress(AddressType.IPv4, new byte[4], 53), -1, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Write(b => ClientCommandWriter.WriteSet(b, new SocksAddress(AddressType.IPv4, new byte[4], 0), 1, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Write(b => ClientCommandWriter.WriteUnmap(b, 0)));
        Assert.Throws<ArgumentException>(() => Write(ClientCommandWriter.WriteMap, bufferLength: 3));
    }

    public static TheoryData<string, string> Answers => new()
    {
        { "SET-OK dst=ntp.example:123 addr=192.0.2.9:123 ttl=5\n", "set-ok-name" },
        { "SET-OK dst=[2001:db8::7]:53 ttl=default map=3\n", "set-ok-v6" },
        { "SET-FAILED dst=10.0.0.1:53 reason=policy\n", "set-failed-policy" },
        { "SET-FAILED dst=x.example:53 reason=unresolved\n", "set-failed-unresolved" },
        { "SET-FAILED dst=10.0.0.1:53 reason=limit\n", "set-failed-limit" },
        { "MAP-OK map=1 port=40000\n", "map-ok" },
        { "MAP-FAILED reason=limit\n", "map-failed-limit" },
        { "MAP-FAILED reason=rate-limit\n", "map-failed-rate" },
        { "UNMAP-OK map=1\n", "unmap-ok" },
        { "UNMAP-FAILED map=9 reason=invalid\n", "unmap-failed" },
        { "UNMAP-FAILED map=9 reason=rate-limit\n", "unmap-failed-rate" },
        { "COMMAND-FAILED reason=malformed\n", "malformed" },
        { "COMMAND-FAILED verb=PING reason=unknown\n", "unknown" },
    };

    private static string WriteAnswer(string recipe) => recipe switch
    {
        "set-ok-name" => Write(b => CommandAnswerWriter.SetOk(b, "ntp.example:123"u8, IPAddress.Parse("192.0.2.9"), 123, 5, 0)),
        "set-ok-v6" => Write(b => CommandAnswerWriter.SetOk(b, "[2001:db8::7]:53"u8, null, 53, ClientCommand.DefaultTtl, 3)),
        "set-failed-policy" => Write(b => CommandAnswerWriter.SetFailed(b, "10.0.0.1:53"u8, CommandFailureReason.Policy)),
        "set-failed-unresolved" => Write(b => CommandAnswerWriter.SetFailed(b, "x.example:53"u8, CommandFailureReason.Unresolved)),
        "set-failed-limit" => Write(b => CommandAnswerWriter.SetFailed(b, "10.0.0.1:53"u8, CommandFailureReason.Limit)),
        "map-ok" => Write(b => CommandAnswerWriter.MapOk(b, 1, 40000)),
        "map-failed-limit" => Write(b => CommandAnswerWriter.MapFailed(b, CommandFailureReason.Limit)),
        "map-failed-rate" => Write(b => CommandAnswerWriter.MapFailed(b, CommandFailureReason.RateLimit)),
        "unmap-ok" => Write(b => CommandAnswerWriter.UnmapOk(b, 1)),
        "unmap-failed" => Write(b => CommandAnswerWriter.UnmapFailed(b, "9"u8, CommandFailureReason.Invalid)),
        "unmap-failed-rate" => Write(b => CommandAnswerWriter.UnmapFailed(b, "9"u8, CommandFailureReason.RateLimit)),
        "malformed" => Write(CommandAnswerWriter.Malformed),
        "unknown" => Write(b => CommandAnswerWriter.UnknownVerb(b, "PING"u8)),
        _ => throw new ArgumentOutOfRangeException(nameof(recipe)),
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void Answer_IsWrittenExactly(string expected, string recipe)
    {
        Assert.Equal(expected, WriteAnswer(recipe));
    }

    [Theory]
    [MemberData(nameof(Answers))]
    public void Answer_ParsesBackToItsFields(string expected, string recipe)
    {
        Assert.True(CommandAnswer.TryParse(WriteAnswer(recipe), out var answer));

        string[] tokens = expected.TrimEnd('\n').Split(' ');
        Assert.Equal(tokens[0], answer.Verb);
        Assert.Equal(expected.TrimEnd('\n'), answer.Line);
        Assert.Equal(tokens[0].EndsWith("-OK", StringComparison.Ordinal), answer.Succeeded);
        Assert.Equal(tokens[0][..tokens[0].LastIndexOf('-')], answer.Command);
        Assert.Equal(tokens.Length - 1, answer.Fields.Count);
        foreach (string token in tokens[1..])
        {
            string[] kv = token.Split('=', 2);
            Assert.Equal(kv[1], answer[kv[0]]);
        }
    }

    [Fact]
    public void SetOk_TypedGetters()
    {
        Assert.True(CommandAnswer.TryParse("SET-OK dst=ntp.example:123 addr=192.0.2.9:123 ttl=5 map=2\n", out var answer));

        Assert.True(answer.Succeeded);
        Assert.Equal(CommandVerbs.Set, answer.Command);
        Assert.Equal("ntp.example:123", answer.Destination);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.9"), 123), answer.Address);
        Assert.Equal(5, answer.Ttl);
        Assert.Equal((ushort)2, answer.Mapping);
        Assert.Null(answer.ReasonText);
        Assert.Equal(CommandFailureReason.Other, answer.Reason);
    }

    [Theory]
    [InlineData("ttl=default", ClientCommand.DefaultTtl)]
    [InlineData("ttl=1", 1)]
    [InlineData("ttl=255", 255)]
    [InlineData("ttl=0", null)]
    [InlineData("ttl=256", null)]
    [InlineData("ttl=x", null)]
    [InlineData("", null)]
    public void Ttl_IsANumberDefaultOrNull(string field, int? expected)
    {
        Assert.True(CommandAnswer.TryParse($"SET-OK dst=1.2.3.4:5 {field}", out var answer));
        Assert.Equal(expected, answer.Ttl);
    }

    [Theory]
    [InlineData("reason=malformed", CommandFailureReason.Malformed)]
    [InlineData("reason=unknown", CommandFailureReason.Unknown)]
    [InlineData("reason=invalid", CommandFailureReason.Invalid)]
    [InlineData("reason=policy", CommandFailureReason.Policy)]
    [InlineData("reason=unresolved", CommandFailureReason.Unresolved)]
    [InlineData("reason=limit", CommandFailureReason.Limit)]
    [InlineData("reason=rate-limit", CommandFailureReason.RateLimit)]
    [InlineData("reason=cosmic-rays", CommandFailureReason.Other)]
    [InlineData("", CommandFailureReason.Other)]
    public void Reason_IsTypedAndKeptAsText(string field, CommandFailureReason expected)
    {
        Assert.True(CommandAnswer.TryParse($"SET-FAILED dst=1.2.3.4:5 {field}\n", out var answer));

        Assert.False(answer.Succeeded);
        Assert.Equal(expected, answer.Reason);
        Assert.Equal(field.Length == 0 ? null : field["reason=".Length..], answer.ReasonText);
    }

    [Fact]
    public void MapOkAndUnknownVerb_TypedGetters()
    {
        Assert.True(CommandAnswer.TryParse("MAP-OK map=7 port=40001 future=1\n", out var map));
        Assert.True(CommandAnswer.TryParse("COMMAND-FAILED verb=A%25B reason=unknown\n", out var unknown));

        Assert.Equal((ushort)7, map.Mapping);
        Assert.Equal((ushort)40001, map.Port);
        Assert.Equal("1", map["future"]);
        Assert.Equal(CommandVerbs.Command, unknown.Command);
        Assert.Equal("A%B", unknown.UnknownVerb);
        Assert.Equal(CommandFailureReason.Unknown, unknown.Reason);
    }

    [Theory]
    [InlineData("port=0")]
    [InlineData("port=65536")]
    [InlineData("map=-1 port=x")]
    [InlineData("verb=%zz addr=1.2.3.4")]
    public void MalformedValues_AreNull(string fields)
    {
        Assert.True(CommandAnswer.TryParse($"MAP-OK {fields}\n", out var answer));

        Assert.Null(answer.Port);
        Assert.Null(answer.Mapping);
        Assert.Null(answer.UnknownVerb);
        Assert.Null(answer.Address);
    }

    [Theory]
    [InlineData("NOTICES version=1\n")]
    [InlineData("UDP-ERROR dst=1.2.3.4:5 error=unknown\n")]
    [InlineData("DST-CLOSED dst=1.2.3.4:5 reason=idle\n")]
    [InlineData("-OK\n")]
    [InlineData("-FAILED\n")]
    [InlineData("OK\n")]
    [InlineData("SET-OKAY\n")]
    [InlineData(" SET-OK\n")]
    [InlineData("")]
    public void NonAnswers_AreNotAnswers(string line)
    {
        Assert.False(CommandAnswer.TryParse(line, out var answer));
        Assert.Null(answer);
    }

    [Theory]
    [InlineData("SET-OK", true)]
    [InlineData("X-FAILED", true)]
    [InlineData("FUTURE-VERB-OK", true)]
    [InlineData("-OK", false)]
    [InlineData("-FAILED", false)]
    [InlineData("UDP-ERROR", false)]
    [InlineData("NOTICES", false)]
    [InlineData("CLOSING", false)]
    [InlineData("DST-CLOSED", false)]
    [InlineData("UDP-DENIED", false)]
    [InlineData("UDP-UNRESOLVED", false)]
    public void IsAnswer_IsTheVerbsEnding(string verb, bool expected)
    {
        Assert.Equal(expected, CommandVerbs.IsAnswer(Encoding.ASCII.GetBytes(verb)));
    }

    [Fact]
    public void LongestAnswers_Fit()
    {
        string longestName = string.Concat(Enumerable.Repeat("%FF", 255)) + ":65535";
        byte[] dst = Ascii(longestName);

        string ok = Write(b => CommandAnswerWriter.SetOk(b, dst, IPAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 65535, ClientCommand.DefaultTtl, 65535));
        string failed = Write(b => CommandAnswerWriter.SetFailed(b, dst, CommandFailureReason.Unresolved));

        Assert.StartsWith($"SET-OK dst={longestName} addr=[ffff:", ok);
        Assert.EndsWith(" ttl=default map=65535\n", ok);
        Assert.True(ok.Length <= NoticeFormat.MaxLineLength, $"{ok.Length}");
        Assert.Equal($"SET-FAILED dst={longestName} reason=unresolved\n", failed);
    }

    [Fact]
    public void EchoThatIsNotAValue_IsLeftOut()
    {
        Assert.Equal("SET-FAILED reason=policy\n", Write(b => CommandAnswerWriter.SetFailed(b, "a b:1"u8, CommandFailureReason.Policy)));
        Assert.Equal("UNMAP-FAILED reason=invalid\n", Write(b => CommandAnswerWriter.UnmapFailed(b, "1=2"u8, CommandFailureReason.Invalid)));
    }

    [Fact]
    public void ReasonOther_HasNoWireName()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Write(b => CommandAnswerWriter.MapFailed(b, CommandFailureReason.Other)));
    }

    [Fact]
    public void Refusal_OfAValidCommand_Throws_AndFailedOfAnUnknownVerb_Throws()
    {
        var buffer = new byte[NoticeFormat.MaxLineLength];
        var scratch = new byte[ClientCommandParser.ScratchLength];

        Assert.Throws<ArgumentException>(() =>
        {
            ClientCommandParser.Parse("MAP\n"u8, All, scratch, out var command);
            return CommandAnswerWriter.Refusal(buffer, ClientCommandStatus.Valid, command);
        });
        Assert.Throws<ArgumentException>(() =>
        {
            ClientCommandParser.Parse("FOO\n"u8, All, scratch, out var command);
            return CommandAnswerWriter.Failed(buffer, command, CommandFailureReason.RateLimit);
        });
    }

    [Theory]
    [InlineData("SET dst=1.2.3.4:5 ttl=1\n", "SET-FAILED dst=1.2.3.4:5 reason=rate-limit\n")]
    [InlineData("MAP\n", "MAP-FAILED reason=rate-limit\n")]
    [InlineData("UNMAP map=4\n", "UNMAP-FAILED map=4 reason=rate-limit\n")]
    public void Failed_RateLimit_EchoesWhatIdentifiesTheCommand(string line, string expected)
    {
        var buffer = new byte[NoticeFormat.MaxLineLength];
        var scratch = new byte[ClientCommandParser.ScratchLength];
        Assert.Equal(ClientCommandStatus.Valid, ClientCommandParser.Parse(Ascii(line), All, scratch, out var command));

        int n = CommandAnswerWriter.Failed(buffer, command, CommandFailureReason.RateLimit);

        Assert.Equal(expected, Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public void Answers_AllocateNothing()
    {
        var buffer = new byte[NoticeFormat.MaxLineLength];
        var resolved = IPAddress.Parse("192.0.2.9");
        int total = WriteAll();

        long before = GC.GetAllocatedBytesForCurrentThread();
        total += WriteAll();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(total > 0);

        int WriteAll()
        {
            int n = 0;
            for (int i = 0; i < 100; i++)
            {
                n += CommandAnswerWriter.SetOk(buffer, "ntp.example:123"u8, resolved, 123, 5, 2);
                n += CommandAnswerWriter.SetFailed(buffer, "ntp.example:123"u8, CommandFailureReason.Policy);
                n += CommandAnswerWriter.MapOk(buffer, 1, 40000);
                n += CommandAnswerWriter.UnmapFailed(buffer, "9"u8, CommandFailureReason.Invalid);
                n += CommandAnswerWriter.UnknownVerb(buffer, "PING"u8);
                n += CommandAnswerWriter.Malformed(buffer);
            }

            return n;
        }
    }

    [Theory]
    [InlineData("set,map", OfferedCommands.Set | OfferedCommands.Map)]
    [InlineData("map,set", OfferedCommands.Set | OfferedCommands.Map)]
    [InlineData("set", OfferedCommands.Set)]
    [InlineData("map", OfferedCommands.Map)]
    [InlineData("set,teleport,map", OfferedCommands.Set | OfferedCommands.Map)]
    [InlineData("SET", OfferedCommands.None)]
    [InlineData(",,set,", OfferedCommands.Set)]
    [InlineData("", OfferedCommands.None)]
    public void OfferedCommands_Parse(string value, OfferedCommands expected)
    {
        Assert.Equal(expected, OfferedCommandsFormat.Parse(value));
    }

    [Theory]
    [InlineData(OfferedCommands.Set | OfferedCommands.Map, "set,map")]
    [InlineData(OfferedCommands.Set, "set")]
    [InlineData(OfferedCommands.Map, "map")]
    [InlineData(OfferedCommands.None, "")]
    public void OfferedCommands_WireValue_RoundTrips(OfferedCommands commands, string expected)
    {
        Assert.Equal(expected, OfferedCommandsFormat.ToWireValue(commands));
        Assert.Equal(commands, OfferedCommandsFormat.Parse(expected));
    }

    [Fact]
    public void Greeting_WithCommands_IsWrittenAndRead()
    {
        string? line = NoticeExamples.Build(NoticeVerbs.Notices, static (ref NoticeLineWriter w) =>
        {
            w.Add(NoticeKeys.Version, 1);
            w.Add(NoticeKeys.Commands, OfferedCommandsFormat.ToWireValue(OfferedCommands.Set | OfferedCommands.Map));
        });

        Assert.Equal("NOTICES version=1 commands=set,map\n", line);
        Assert.True(Notice.TryParse(line!, out var notice));
        Assert.Equal(1, notice.Version);
        Assert.Equal(OfferedCommands.Set | OfferedCommands.Map, notice.Commands);
        Assert.True(Notice.TryParse("NOTICES version=1\n", out var old));
        Assert.Equal(OfferedCommands.None, old.Commands);
    }
}
