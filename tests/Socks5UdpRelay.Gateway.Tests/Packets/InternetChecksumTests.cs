using System.Buffers.Binary;
using Socks5UdpRelay.Gateway.Packets;

namespace Socks5UdpRelay.Gateway.Tests.Packets;

public sealed class InternetChecksumTests
{
    [Fact]
    public void Rfc1071Example_SumsToDdf2()
    {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
        byte[] data = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7];

        Assert.Equal(0x220D, InternetChecksum.Compute(data));
    }

    [Fact]
    public void KernelHeader_VerifiesToZero() =>
        Assert.Equal(0, InternetChecksum.Compute(KernelVectors.IcmpErrorHeaderV4));

    [Fact]
    public void EveryLength_MatchesTheWordByWordDefinition()
    {
        var random = new Random(1071);
        for (int length = 0; length <= 67; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);

            Assert.Equal(Reference(data), InternetChecksum.Compute(data));
        }
    }

    [Fact]
    public void SumsOfEvenSplits_EqualTheWholeSum()
    {
        var data = new byte[61];
        new Random(7).NextBytes(data);
        for (int split = 0; split <= data.Length; split += 2)
        {
            ulong sum = InternetChecksum.Add(InternetChecksum.Add(0, data.AsSpan(0, split)), data.AsSpan(split));

            Assert.Equal(Reference(data), InternetChecksum.Finish(sum));
        }
    }

    [Fact]
    public void AddWord_IsABigEndianWordOfTheMessage()
    {
        byte[] data = [0x12, 0x34, 0xAB, 0xCD];

        Assert.Equal(InternetChecksum.Compute(data), InternetChecksum.Finish(InternetChecksum.AddWord(InternetChecksum.AddWord(0, 0x1234), 0xABCD)));
    }

    [Fact]
    public void AllOnesWords_FoldWithEndAroundCarry()
    {
        var data = Enumerable.Repeat((byte)0xFF, 4096).ToArray();

        Assert.Equal(Reference(data), InternetChecksum.Compute(data));
    }

    /// <summary>RFC 1071 as written: big-endian 16-bit words, an odd byte padded with zero, carries folded back.</summary>
    private static ushort Reference(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
