using System.Buffers;
using System.Text;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class ControlLineFramerTests
{
    private const int Max = NoticeFormat.MaxLineLength;

    /// <summary>What a reader of the stream sees: each line as text, and "(too long)" for each over-long one.</summary>
    internal static List<string> Frame(IEnumerable<byte[]> chunks, int bufferLength = Max)
    {
        var framer = new ControlLineFramer();
        var buffer = new byte[bufferLength];
        int have = 0;
        var seen = new List<string>();
        foreach (byte[] chunk in chunks)
        {
            var data = chunk.AsSpan();
            while (!data.IsEmpty)
            {
                // As a socket would: never more than the room left.
                int n = Math.Min(data.Length, buffer.Length - have);
                Assert.True(n > 0, "the framer left no room in a buffer of MaxLineLength bytes");
                data[..n].CopyTo(buffer.AsSpan(have));
                data = data[n..];
                have += n;
                have = Drain(ref framer, buffer, have, seen);
            }
        }

        return seen;
    }

    private static int Drain(ref ControlLineFramer framer, byte[] buffer, int have, List<string> seen)
    {
        while (true)
        {
            var status = framer.TryReadLine(buffer.AsSpan(0, have), out var line, out int consumed);
            Assert.InRange(consumed, 0, have);
            if (status == OperationStatus.Done)
            {
                Assert.True(line.EndsWith("\n"u8));
                seen.Add(Encoding.Latin1.GetString(line));
            }
            else if (status == OperationStatus.InvalidData)
            {
                seen.Add("(too long)");
            }

            buffer.AsSpan(consumed, have - consumed).CopyTo(buffer);
            have -= consumed;
            if (status == OperationStatus.NeedMoreData)
            {
                return have;
            }
        }
    }

    private static readonly string TooLong = new string('x', Max) + "\n";
    private static readonly string Longest = new string('y', Max - 1) + "\n";

    private static readonly string Stream =
        "NOTICES version=1 commands=set,map\n" + "SET-OK dst=10.0.0.1:53 ttl=5\n" + TooLong + "\n" + Longest + "MAP-OK map=1 port=40000\n";

    private static readonly List<string> Expected =
        ["NOTICES version=1 commands=set,map\n", "SET-OK dst=10.0.0.1:53 ttl=5\n", "(too long)", "\n", Longest, "MAP-OK map=1 port=40000\n"];

    [Fact]
    public void Stream_InOneRead_GivesEveryLine()
    {
        Assert.Equal(Expected, Frame([Ascii(Stream)], bufferLength: 4 * Max));
    }

    [Fact]
    public void Stream_SplitAtEveryPoint_GivesTheSameLines()
    {
        byte[] all = Ascii(Stream);
        for (int split = 0; split <= all.Length; split++)
        {
            Assert.Equal(Expected, Frame([all[..split], all[split..]]));
        }
    }

    [Fact]
    public void Stream_OneByteAtATime_GivesTheSameLines()
    {
        Assert.Equal(Expected, Frame(Ascii(Stream).Select(b => new[] { b })));
    }

    [Fact]
    public void Line_SplitAtEveryPairOfPoints_ComesOutWhole()
    {
        byte[] all = Ascii("SET dst=a.example:1 ttl=2\nMAP\n");
        for (int first = 0; first <= all.Length; first++)
        {
            for (int second = first; second <= all.Length; second++)
            {
                Assert.Equal(["SET dst=a.example:1 ttl=2\n", "MAP\n"], Frame([all[..first], all[first..second], all[second..]]));
            }
        }
    }

    [Fact]
    public void LineOf1024Bytes_IsALine_1025_IsTooLong()
    {
        Assert.Equal([Longest], Frame([Ascii(Longest)]));
        Assert.Equal(["(too long)", "NEXT\n"], Frame([Ascii(new string('z', Max) + "\nNEXT\n")], bufferLength: 4 * Max));
    }

    [Fact]
    public void OverLongLine_OverManyReads_IsReportedOnce_AndDiscardedToItsNewline()
    {
        var chunks = Enumerable.Range(0, 7).Select(_ => Repeat((byte)'c', 700)).Append(Ascii("c\nAFTER k=v\n"));

        Assert.Equal(["(too long)", "AFTER k=v\n"], Frame(chunks));
    }

    [Fact]
    public void TwoOverLongLinesInARow_AreTwoReports()
    {
        Assert.Equal(["(too long)", "(too long)", "OK\n"], Frame([Ascii(TooLong + TooLong + "OK\n")]));
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
