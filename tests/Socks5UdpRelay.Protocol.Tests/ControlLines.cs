using System.Buffers;
using System.Text;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>Drives a <see cref="ControlLineFramer"/> over a stream that arrives in chunks, as a socket reader does.</summary>
internal static class ControlLines
{
    /// <summary>What a reader of the stream sees: each line as text, and "(too long)" for each over-long one.</summary>
    public static List<string> Frame(IEnumerable<byte[]> chunks, int bufferLength = NoticeFormat.MaxLineLength, bool readLines = false)
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
                have = readLines
                    ? framer.ReadLines(buffer, have, line => seen.Add(Encoding.Latin1.GetString(line)), () => seen.Add("(too long)"))
                    : Drain(ref framer, buffer, have, seen);
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
}
