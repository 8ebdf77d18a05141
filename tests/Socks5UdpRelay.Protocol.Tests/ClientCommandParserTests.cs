using System.Net;
using System.Text;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class ClientCommandParserTests
{
    private const OfferedCommands All = OfferedCommands.Set | OfferedCommands.Map;

    /// <summary>The status, and the answer a server would write for a line that is not valid.</summary>
    internal static (ClientCommandStatus Status, string? Refusal) ParseAndRefuse(byte[] line, OfferedCommands offered = All)
    {
        Span<byte> scratch = stackalloc byte[ClientCommandParser.ScratchLength];
        var status = ClientCommandParser.Parse(line, offered, scratch, out var command);
        if (status == ClientCommandStatus.Valid)
        {
            return (status, null);
        }

        var answer = new byte[NoticeFormat.MaxLineLength];
        int n = CommandAnswerWriter.Refusal(answer, status, command);
        return (status, Encoding.ASCII.GetString(answer, 0, n));
    }

    [Fact]
    public void Set_IPv4_ReadsEveryValue()
    {
        Span<byte> scratch = stackalloc byte[ClientCommandParser.ScratchLength];

        var status = ClientCommandParser.Parse(Ascii("SET dst=203.0.113.7:555 ttl=5\n"), All, scratch, out var command);

        Assert.Equal(ClientCommandStatus.Valid, status);
        Assert.Equal(ClientCommandVerb.Set, command.Verb);
        Assert.Equal("SET", Encoding.ASCII.GetString(command.VerbText));
        Assert.Equal(AddressType.IPv4, command.Destination.Type);
        Assert.Equal(new byte[] { 203, 0, 113, 7 }, command.Destination.AddressBytes.ToArray());
        Assert.Equal(555, command.Destination.Port);
        Assert.Equal("203.0.113.7:555", Encoding.ASCII.GetString(command.DestinationText));
        Assert.Equal(5, command.Ttl);
        Assert.Equal(0, command.Mapping);
        Assert.True(command.MappingText.IsEmpty);
    }

    [Fact]
    public void Set_IPv6_WithMapping()
    {
        Span<byte> scratch = stackalloc byte[ClientCommandParser.ScratchLength];

        var status = ClientCommandParser.Parse(Ascii("SET dst=[2001:db8::7]:53 ttl=255 map=3\n"), All, scratch, out var command);

        Assert.Equal(ClientCommandStatus.Valid, status);
        Assert.Equal(AddressType.IPv6, command.Destination.Type);
        Assert.Equal(IPAddress.Parse("2001:db8::7").GetAddressBytes(), command.Destination.AddressBytes.ToArray());
        Assert.Equal(53, command.Destination.Port);
        Assert.Equal(255, command.Ttl);
        Assert.Equal(3, command.Mapping);
        Assert.Equal("3", Encoding.ASCII.GetString(command.MappingText));
    }

    [Theory]
    [InlineData("SET ttl=default dst=ntp.example:123\n", "ntp.example", 123)]
    [InlineData("SET dst=a%20b%3A:1 ttl=default\n", "a b:", 1)]
    [InlineData("SET dst=999.1.1.1:7 ttl=default\n", "999.1.1.1", 7)]
    [InlineData("SET dst=01.2.3.4:7 ttl=default\n", "01.2.3.4", 7)]
    public void Set_Name_IsUnescaped_AndDefaultTtlIsZero(string line, string name, ushort port)
    {
        Span<byte> scratch = stackalloc byte[ClientCommandParser.ScratchLength];

        var status = ClientCommandParser.Parse(Ascii(line), All, scratch, out var command);

        Assert.Equal(ClientCommandStatus.Valid, status);
        Assert.Equal(AddressType.DomainName, command.Destination.Type);
        Assert.Equal(name, command.Destination.GetHostName());
        Assert.Equal(port, command.Destination.Port);
        Assert.Equal(ClientCommand.DefaultTtl, command.Ttl);
    }

    [Theory]
    [InlineData("MAP\n", ClientCommandVerb.Map, 0)]
    [InlineData("MAP\r\n", ClientCommandVerb.Map, 0)]
    [InlineData("MAP", ClientCommandVerb.Map, 0)]
    [InlineData("UNMAP map=7\n", ClientCommandVerb.Unmap, 7)]
    [InlineData("UNMAP map=65535\n", ClientCommandVerb.Unmap, 65535)]
    [InlineData("UNMAP map=00012\n", ClientCommandVerb.Unmap, 12)]
    [InlineData("SET dst=1.2.3.4:65535 ttl=1 map=0\n", ClientCommandVerb.Set, 0)]
    public void OtherValidLines(string line, ClientCommandVerb verb, ushort mapping)
    {
        Span<byte> scratch = stackalloc byte[ClientCommandParser.ScratchLength];

        Assert.Equal(ClientCommandStatus.Valid, ClientCommandParser.Parse(Ascii(line), All, scratch, out var command));
        Assert.Equal(verb, command.Verb);
        Assert.Equal(mapping, command.Mapping);
    }

    public static TheoryData<string> MalformedLines => new()
    {
        "",
        "\n",
        "\r\n",
        " MAP\n",
        "MAP \n",
        "MAP  \n",
        "SET  dst=1.2.3.4:5 ttl=1\n",
        "SET dst=1.2.3.4:5  ttl=1\n",
        "SET dst=1.2.3.4:5 ttl=1 \n",
        "SET dst=1.2.3.4:5 ttl\n",
        "SET dst=1.2.3.4:5 =1\n",
        "SET dst=a=b ttl=1\n",
        "SET dst=1.2.3.4:5\tttl=1\n",
        "MAP\r\r\n",
        "MAP\rX\n",
        "MA\u0000P\n",
        "MAP\u007F\n",
        "SET dst=1.2.3.4:5 ttl=1\r",
        "SET dst=1.2.3.4:5 ttl=1 ttl=2\n",
        "SET ttl=1 dst=1.2.3.4:5 ttl=1\n",
        "FOO a=1 b=2 a=1\n",
        "dst=1.2.3.4:5\n",
        "=MAP\n",
        "MAP\nMAP\n",
    };

    [Theory]
    [MemberData(nameof(MalformedLines))]
    public void Malformed_IsAnsweredMalformed(string line)
    {
        var (status, answer) = ParseAndRefuse(Encoding.Latin1.GetBytes(line));

        Assert.Equal(ClientCommandStatus.Malformed, status);
        Assert.Equal("COMMAND-FAILED reason=malformed\n", answer);
    }

    [Fact]
    public void HighByte_IsMalformed()
    {
        Assert.Equal(ClientCommandStatus.Malformed, ParseAndRefuse([.. Ascii("MAP x="), 0xC3, 0xA9, (byte)'\n']).Status);
    }

    [Fact]
    public void LineOver1024Bytes_IsMalformed_1024IsNot()
    {
        string fits = "MAP " + new string('k', NoticeFormat.MaxLineLength - 7) + "=1\n";
        Assert.Equal(NoticeFormat.MaxLineLength, fits.Length);

        Assert.Equal(ClientCommandStatus.Invalid, ParseAndRefuse(Ascii(fits)).Status);
        Assert.Equal(ClientCommandStatus.Malformed, ParseAndRefuse(Ascii("MAP " + new string('k', NoticeFormat.MaxLineLength - 6) + "=1\n")).Status);
    }

    [Theory]
    [InlineData("FOO\n", "COMMAND-FAILED verb=FOO reason=unknown\n")]
    [InlineData("PING x=1 y=2\n", "COMMAND-FAILED verb=PING reason=unknown\n")]
    [InlineData("set dst=1.2.3.4:5 ttl=1\n", "COMMAND-FAILED verb=set reason=unknown\n")]
    [InlineData("A%B:[x]\n", "COMMAND-FAILED verb=A%25B%3A%5Bx%5D reason=unknown\n")]
    [InlineData("UNMAP-OK map=1\n", "COMMAND-FAILED verb=UNMAP-OK reason=unknown\n")]
    public void UnknownVerb_IsEchoedEscapedAsAName(string line, string expected)
    {
        var (status, answer) = ParseAndRefuse(Ascii(line));

        Assert.Equal(ClientCommandStatus.UnknownVerb, status);
        Assert.Equal(expected, answer);
    }

    [Theory]
    [InlineData("SET dst=1.2.3.4:5 ttl=1\n", OfferedCommands.Map, "SET")]
    [InlineData("MAP\n", OfferedCommands.Set, "MAP")]
    [InlineData("UNMAP map=1\n", OfferedCommands.Set, "UNMAP")]
    [InlineData("MAP\n", OfferedCommands.None, "MAP")]
    public void VerbNotOffered_IsUnknown(string line, OfferedCommands offered, string verb)
    {
        var (status, answer) = ParseAndRefuse(Ascii(line), offered);

        Assert.Equal(ClientCommandStatus.UnknownVerb, status);
        Assert.Equal($"COMMAND-FAILED verb={verb} reason=unknown\n", answer);
    }

    [Fact]
    public void LongUnknownVerb_IsEchoedFromIts255FirstBytes_AndFits()
    {
        string verb = new('%', NoticeFormat.MaxLineLength - 1);

        var (status, answer) = ParseAndRefuse(Ascii(verb + "\n"));

        Assert.Equal(ClientCommandStatus.UnknownVerb, status);
        Assert.Equal("COMMAND-FAILED verb=" + string.Concat(Enumerable.Repeat("%25", 255)) + " reason=unknown\n", answer);
        Assert.True(answer!.Length <= NoticeFormat.MaxLineLength);
    }

    public static TheoryData<string, string> InvalidLines => new()
    {
        { "SET ttl=5\n", "SET-FAILED reason=invalid\n" },
        { "SET dst=1.2.3.4:5\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=0\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=256\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=abc\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=-1\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=+1\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=DEFAULT\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=99999999999\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4 ttl=1\n", "SET-FAILED dst=1.2.3.4 reason=invalid\n" },
        { "SET dst=1.2.3.4:0 ttl=1\n", "SET-FAILED dst=1.2.3.4:0 reason=invalid\n" },
        { "SET dst=1.2.3.4:65536 ttl=1\n", "SET-FAILED dst=1.2.3.4:65536 reason=invalid\n" },
        { "SET dst=[zz]:53 ttl=1\n", "SET-FAILED dst=[zz]:53 reason=invalid\n" },
        { "SET dst=[fe80::1%25eth0]:53 ttl=1\n", "SET-FAILED dst=[fe80::1%25eth0]:53 reason=invalid\n" },
        { "SET dst=2001:db8::1:53 ttl=1\n", "SET-FAILED dst=2001:db8::1:53 reason=invalid\n" },
        { "SET dst=%zz:1 ttl=1\n", "SET-FAILED dst=%zz:1 reason=invalid\n" },
        { "SET dst= ttl=1\n", "SET-FAILED reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=1 map=65536\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=1 map=x\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=1 color=blue\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "SET dst=1.2.3.4:5 ttl=1 rttl=3\n", "SET-FAILED dst=1.2.3.4:5 reason=invalid\n" },
        { "MAP map=1\n", "MAP-FAILED reason=invalid\n" },
        { "MAP ttl=1\n", "MAP-FAILED reason=invalid\n" },
        { "UNMAP\n", "UNMAP-FAILED reason=invalid\n" },
        { "UNMAP map=0\n", "UNMAP-FAILED map=0 reason=invalid\n" },
        { "UNMAP map=70000\n", "UNMAP-FAILED map=70000 reason=invalid\n" },
        { "UNMAP map=abc\n", "UNMAP-FAILED map=abc reason=invalid\n" },
        { "UNMAP map=123456\n", "UNMAP-FAILED reason=invalid\n" },
        { "UNMAP map=1 dst=1.2.3.4:5\n", "UNMAP-FAILED map=1 reason=invalid\n" },
    };

    [Theory]
    [MemberData(nameof(InvalidLines))]
    public void Invalid_IsAnsweredWithItsVerbAndEcho(string line, string expected)
    {
        var (status, answer) = ParseAndRefuse(Ascii(line));

        Assert.Equal(ClientCommandStatus.Invalid, status);
        Assert.Equal(expected, answer);
    }

    [Fact]
    public void LongestValidName_Parses_OneByteMore_IsInvalid()
    {
        string name = string.Concat(Enumerable.Repeat("%FF", 255));
        Span<byte> scratch = stackalloc byte[ClientCommandParser.ScratchLength];

        Assert.Equal(ClientCommandStatus.Valid, ClientCommandParser.Parse(Ascii($"SET dst={name}:65535 ttl=1\n"), All, scratch, out var command));
        Assert.Equal(Repeat(0xFF, 255), command.Destination.AddressBytes.ToArray());
        Assert.Equal(ClientCommandStatus.Invalid, ClientCommandParser.Parse(Ascii($"SET dst={name}A:65535 ttl=1\n"), All, scratch, out _));
    }

    [Fact]
    public void OverLongDestination_IsNotEchoed_SoTheAnswerFits()
    {
        string dst = new string('a', 1000) + ":1";

        var (status, answer) = ParseAndRefuse(Ascii($"SET dst={dst} ttl=1\n"));

        Assert.Equal(ClientCommandStatus.Invalid, status);
        Assert.Equal("SET-FAILED reason=invalid\n", answer);
    }

    [Fact]
    public void AnyLine_GetsAnAnswerThatFitsAndReadsBackAsAnAnswer()
    {
        // Random lines of printable ASCII, spaces and '=' (the bytes that decide the syntax),
        // with and without a known verb in front: every status, every answer size.
        var random = new Random(20261129);
        string alphabet = "= =  =abcSETMAPUN%:[].0123456789-_ttl=dst=map=";
        string[] verbs = ["", "SET ", "MAP ", "MAP", "UNMAP ", "SET dst=1.2.3.4:5 ttl=1 ", "SET dst=1.2.3.4:5 ttl=1"];
        var seen = new HashSet<ClientCommandStatus>();
        for (int i = 0; i < 3000; i++)
        {
            int length = random.Next(0, i % 10 == 0 ? 1100 : 60);
            var text = new StringBuilder(verbs[random.Next(verbs.Length)]);
            for (int j = 0; j < length; j++)
            {
                text.Append(alphabet[random.Next(alphabet.Length)]);
            }

            text.Append('\n');
            var (status, answer) = ParseAndRefuse(Ascii(text.ToString()));
            seen.Add(status);
            if (answer is null)
            {
                continue;
            }

            Assert.True(answer.Length <= NoticeFormat.MaxLineLength, $"{answer.Length}-byte answer to {text}");
            Assert.True(CommandAnswer.TryParse(answer, out var parsed), answer);
            Assert.False(parsed.Succeeded);
        }

        Assert.Equal(4, seen.Count);
    }

    [Fact]
    public void CommandStream_SplitAtEveryPoint_GetsTheSameAnswers()
    {
        // What a server's read loop does: frame, then parse; an over-long line is malformed.
        string stream = "SET dst=10.0.0.1:53 ttl=5\n" + "PING\n" + new string('S', 1100) + "\n" + "MAP\r\n" + "UNMAP map=0\n" + "SET dst=a b\n";
        byte[] all = Ascii(stream);
        string[] expected =
        [
            "(valid)",
            "COMMAND-FAILED verb=PING reason=unknown\n",
            "COMMAND-FAILED reason=malformed\n",
            "(valid)",
            "UNMAP-FAILED map=0 reason=invalid\n",
            "COMMAND-FAILED reason=malformed\n",
        ];

        for (int split = 0; split <= all.Length; split++)
        {
            var answers = ControlLines.Frame([all[..split], all[split..]])
                .Select(line => line == "(too long)" ? "COMMAND-FAILED reason=malformed\n" : ParseAndRefuse(Encoding.Latin1.GetBytes(line)).Refusal ?? "(valid)");

            Assert.Equal(expected, answers);
        }
    }

    [Fact]
    public void FrameAndParse_AllocateNothing()
    {
        byte[][] lines =
        [
            Ascii("SET dst=203.0.113.7:555 ttl=5 map=2\n"),
            Ascii("SET dst=[2001:db8::7]:53 ttl=default\n"),
            Ascii("SET dst=ntp.example:123 ttl=64\n"),
            Ascii("UNMAP map=9\n"),
            Ascii("MAP\n"),
            Ascii("SET dst=1.2.3.4:5 ttl=1 ttl=1\n"),
            Ascii("FOO\n"),
            Ascii("SET dst=1.2.3.4:0 ttl=1\n"),
        ];
        byte[] scratch = new byte[ClientCommandParser.ScratchLength];
        int valid = 0;
        RunAll();

        long before = GC.GetAllocatedBytesForCurrentThread();
        RunAll();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(2 * 100 * 5, valid);

        void RunAll()
        {
            var framer = new ControlLineFramer();
            for (int i = 0; i < 100; i++)
            {
                foreach (byte[] line in lines)
                {
                    // Framed first, as a server's read loop does.
                    if (framer.TryReadLine(line, out var framed, out _) == System.Buffers.OperationStatus.Done
                        && ClientCommandParser.Parse(framed, All, scratch, out _) == ClientCommandStatus.Valid)
                    {
                        valid++;
                    }
                }
            }
        }
    }
}
