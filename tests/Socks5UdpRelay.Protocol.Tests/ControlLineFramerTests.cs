using System.Buffers;
using System.Text;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class ControlLineFramerTests
{
    private const int Max = NoticeFormat.MaxLineLength;

    private static readonly string TooLong = new string('x', Max) + "\n";
    private static readonly string Longest = new string('y', Max - 1) + "\n";

    private static readonly string Stream =
        "NOTICES version=1 commands=set,map\n" + "SET-OK dst=10.0.0.1:53 ttl=5\n" + TooLong + "\n" + Longest + "MAP-OK map=1 port=40000\n";

    private static readonly List<string> Expected =
        ["NOTICES version=1 commands=set,map\n", "SET-OK dst=10.0.0.1:53 ttl=5\n", "(too long)", "\n", Longest, "MAP-OK map=1 port=40000\n"];

    [Fact]
    public void Stream_InOneRead_GivesEveryLine()
    {
        Assert.Equal(Expected, ControlLines.Frame([Ascii(Stream)], bufferLength: 4 * Max));
    }

    [Fact]
    public void Stream_SplitAtEveryPoint_GivesTheSameLines()
    {
        byte[] all = Ascii(Stream);
        for (int split = 0; split <= all.Length; split++)
        {
            Assert.Equal(Expected, ControlLines.Frame([all[..split], all[split..]]));
        }
    }

    [Fact]
    public void ReadLines_SplitAtEveryPoint_GivesTheSameLines()
    {
        byte[] all = Ascii(Stream);
        for (int split = 0; split <= all.Length; split++)
        {
            Assert.Equal(Expected, ControlLines.Frame([all[..split], all[split..]], readLines: true));
        }
    }

    [Fact]
    public void ReadLines_OneByteAtATime_GivesTheSameLines()
    {
        Assert.Equal(Expected, ControlLines.Frame(Ascii(Stream).Select(b => new[] { b }), readLines: true));
    }

    [Fact]
    public void Stream_OneByteAtATime_GivesTheSameLines()
    {
        Assert.Equal(Expected, ControlLines.Frame(Ascii(Stream).Select(b => new[] { b })));
    }

    [Fact]
    public void Line_SplitAtEveryPairOfPoints_ComesOutWhole()
    {
        byte[] all = Ascii("SET dst=a.example:1 ttl=2\nMAP\n");
        for (int first = 0; first <= all.Length; first++)
        {
            for (int second = first; second <= all.Length; second++)
            {
                Assert.Equal(["SET dst=a.example:1 ttl=2\n", "MAP\n"], ControlLines.Frame([all[..first], all[first..second], all[second..]]));
            }
        }
    }

    [Fact]
    public void LineOf1024Bytes_IsALine_1025_IsTooLong()
    {
        Assert.Equal([Longest], ControlLines.Frame([Ascii(Longest)]));
        Assert.Equal(["(too long)", "NEXT\n"], ControlLines.Frame([Ascii(new string('z', Max) + "\nNEXT\n")], bufferLength: 4 * Max));
    }

    [Fact]
    public void OverLongLine_OverManyReads_IsReportedOnce_AndDiscardedToItsNewline()
    {
        var chunks = Enumerable.Range(0, 7).Select(_ => Repeat((byte)'c', 700)).Append(Ascii("c\nAFTER k=v\n"));

        Assert.Equal(["(too long)", "AFTER k=v\n"], ControlLines.Frame(chunks));
    }

    [Fact]
    public void TwoOverLongLinesInARow_AreTwoReports()
    {
        Assert.Equal(["(too long)", "(too long)", "OK\n"], ControlLines.Frame([Ascii(TooLong + TooLong + "OK\n")]));
    }

    [Fact]
    public void Prefix_NeedsMoreData_AndConsumesNothing()
    {
        var framer = new ControlLineFramer();
        byte[] line = Ascii("MAP-OK map=1 port=2\n");

        for (int length = 0; length < line.Length; length++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, framer.TryReadLine(line[..length], out var seen, out int consumed));
            Assert.Equal(0, consumed);
            Assert.True(seen.IsEmpty);
        }

        Assert.Equal(OperationStatus.Done, framer.TryReadLine(Concat(line, Ascii("MAP")), out var whole, out int all));
        Assert.Equal(line.Length, all);
        Assert.Equal(line, whole.ToArray());
    }

    [Fact]
    public void WhileDiscarding_BytesWithoutNewline_AreConsumed_AndIsDiscardingSays()
    {
        var framer = new ControlLineFramer();

        Assert.Equal(OperationStatus.InvalidData, framer.TryReadLine(Repeat((byte)'a', Max), out _, out int first));
        Assert.Equal(Max, first);
        Assert.True(framer.IsDiscarding);
        Assert.Equal(OperationStatus.NeedMoreData, framer.TryReadLine(Repeat((byte)'a', 10), out _, out int second));
        Assert.Equal(10, second);
        Assert.Equal(OperationStatus.Done, framer.TryReadLine(Ascii("aa\nX\n"), out var line, out int third));
        Assert.Equal(5, third);
        Assert.Equal("X\n", Encoding.ASCII.GetString(line));
        Assert.False(framer.IsDiscarding);
    }
}
