using System.Buffers;
using System.Text;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>A control-message reader reduced to what split tests look at.</summary>
internal delegate OperationStatus StatusReader(ReadOnlySpan<byte> source, out int consumed);

internal static class TestBytes
{
    /// <summary>Bytes from hex written as in an RFC diagram: "05 00 00 01 7F 00 00 01 04 38".</summary>
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Repeat(byte value, int count) => Enumerable.Repeat(value, count).ToArray();

    /// <summary>Bytes after a message that a reader must leave alone (the start of the next one).</summary>
    public static readonly byte[] Trailer = [0x05, 0x01, 0x00, 0xAA];

    /// <summary>
    /// Feeds the message cut at every point: each proper prefix needs more data and consumes
    /// nothing; the whole message is done and consumed exactly; bytes after it are not consumed.
    /// </summary>
    public static void AssertNeedsMoreDataUntilComplete(byte[] message, StatusReader read)
    {
        for (int length = 0; length < message.Length; length++)
        {
            // A fresh array per prefix, so a reader that looks past its input fails loudly.
            byte[] prefix = message[..length];
            OperationStatus status = read(prefix, out int consumed);
            Assert.True(status == OperationStatus.NeedMoreData, $"prefix of {length}/{message.Length} bytes gave {status}");
            Assert.Equal(0, consumed);
        }

        Assert.Equal(OperationStatus.Done, read(message, out int whole));
        Assert.Equal(message.Length, whole);

        Assert.Equal(OperationStatus.Done, read(Concat(message, Trailer), out int withTrailer));
        Assert.Equal(message.Length, withTrailer);
    }
}
