using System.Text;

namespace Socks5UdpRelay.Client.Tests;

public sealed class NoticeLineSplitterTests
{
    private readonly List<string> _lines = [];
    private int _skipped;

    private NoticeLineSplitter NewSplitter() => new(line => _lines.Add(Encoding.ASCII.GetString(line)), () => _skipped++);

    [Fact]
    public void Lines_SplitAtEveryPoint_ComeOutWhole()
    {
        byte[] input = Encoding.ASCII.GetBytes("NOTICES version=1\nUDP-DENIED dst=1.2.3.4:5 reason=policy\n");
        for (int split = 0; split <= input.Length; split++)
        {
            _lines.Clear();
            var splitter = NewSplitter();

            splitter.Feed(input.AsSpan(0, split));
            splitter.Feed(input.AsSpan(split));

            Assert.Equal(["NOTICES version=1\n", "UDP-DENIED dst=1.2.3.4:5 reason=policy\n"], _lines);
        }
    }

    [Fact]
    public void LineOf1024Bytes_IsKept_LineOf1025_IsSkipped()
    {
        string fits = new string('a', 1023) + "\n";
        string tooLong = new string('b', 1024) + "\n";
        var splitter = NewSplitter();

        splitter.Feed(Encoding.ASCII.GetBytes(fits + tooLong + "NEXT x=1\n"));

        Assert.Equal([fits, "NEXT x=1\n"], _lines);
        Assert.Equal(1, _skipped);
    }

    [Fact]
    public void OverLongLine_SpreadOverManyReads_IsSkippedOnce()
    {
        var splitter = NewSplitter();

        for (int i = 0; i < 5; i++)
        {
            splitter.Feed(Encoding.ASCII.GetBytes(new string('c', 700)));
        }

        splitter.Feed("\nAFTER k=v\n"u8);

        Assert.Equal(["AFTER k=v\n"], _lines);
        Assert.Equal(1, _skipped);
    }
}
