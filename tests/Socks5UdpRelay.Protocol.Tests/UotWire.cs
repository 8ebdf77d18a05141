using System.Buffers;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>
/// UDP-over-TCP frames assembled by hand from the README ("UDP over TCP"), independently of the
/// codec: <c>DATLEN(2, big-endian) HDRLEN(1) ATYP(1) DST.ADDR DST.PORT(2) DATA</c>, HDRLEN counting
/// everything before DATA; a mapped frame has <c>0x80</c> in ATYP and the 2-byte mapping between
/// ATYP and the address; a control frame is <c>DATLEN 04 FF line</c>.
/// </summary>
internal static class UotWire
{
    /// <summary>The longest name a frame can carry: HDRLEN is one byte, and 7 + 248 is 255.</summary>
    public const int LongestName = 248;

    /// <summary>The longest name a mapped frame can carry: 9 + 246 is 255.</summary>
    public const int LongestMappedName = 246;

    /// <summary><see cref="WireAddresses.All"/> whose frames HDRLEN can describe, and the longest name that fits.</summary>
    public static TheoryData<AddressType, byte[], ushort, byte[]> Addresses => Fitting(LongestName);

    /// <summary>As <see cref="Addresses"/>, for mapped frames (2 bytes less room for a name).</summary>
    public static TheoryData<AddressType, byte[], ushort, byte[]> MappedAddresses => Fitting(LongestMappedName);

    /// <summary>A datagram frame around <paramref name="encodedAddress"/> (ATYP ADDR PORT as RFC 1928 writes it).</summary>
    public static byte[] Datagram(byte[] encodedAddress, byte[] data)
        => Concat(BigEndian(data.Length), [checked((byte)(3 + encodedAddress.Length))], encodedAddress, data);

    /// <summary>A mapped datagram frame: ATYP|0x80, the mapping, then the rest of the address.</summary>
    public static byte[] Mapped(ushort mapping, byte[] encodedAddress, byte[] data)
        => Concat(BigEndian(data.Length), [checked((byte)(5 + encodedAddress.Length)), (byte)(encodedAddress[0] | 0x80)], BigEndian(mapping), encodedAddress[1..], data);

    /// <summary>ATYP=3, the name's length and bytes, the port.</summary>
    public static byte[] EncodedName(byte[] name, ushort port) => Concat([0x03, (byte)name.Length], name, BigEndian(port));

    public static byte[] Control(string line) => Concat(BigEndian(line.Length), [0x04, 0xFF], Ascii(line));

    private static TheoryData<AddressType, byte[], ushort, byte[]> Fitting(int longestName)
    {
        var data = new TheoryData<AddressType, byte[], ushort, byte[]>();
        foreach (object[] row in WireAddresses.All)
        {
            if (((byte[])row[1]).Length <= longestName || (AddressType)row[0] != AddressType.DomainName)
            {
                data.Add((AddressType)row[0], (byte[])row[1], (ushort)row[2], (byte[])row[3]);
            }
        }

        byte[] longest = WireAddresses.Name255[..longestName];
        data.Add(AddressType.DomainName, longest, 4242, EncodedName(longest, 4242));
        return data;
    }

    public static byte[] BigEndian(int value) => [(byte)(value >> 8), (byte)value];

    /// <summary>A payload whose bytes tell their position, so a misplaced slice shows.</summary>
    public static byte[] Payload(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + 3)).ToArray();

    /// <summary>The reader as split tests see it: status and bytes consumed.</summary>
    public static StatusReader Reader(bool extended, int maxData = 65_000)
        => (ReadOnlySpan<byte> source, out int consumed) => UdpOverTcpFrame.TryRead(source, extended, maxData, out _, out consumed);

    /// <summary>Reads <paramref name="frame"/>, which must be one whole datagram frame with these fields.</summary>
    public static void AssertReadsAsDatagram(byte[] frame, bool extended, ushort mapping, AddressType type, byte[] address, ushort port, byte[] data)
    {
        Assert.Equal(OperationStatus.Done, UdpOverTcpFrame.TryRead(frame, extended, 65_000, out var read, out int consumed));
        Assert.Equal(frame.Length, consumed);
        Assert.Equal(UdpFrameKind.Datagram, read.Kind);
        Assert.Equal(mapping, read.Mapping);
        Assert.Equal(type, read.Address.Type);
        Assert.Equal(address, read.Address.AddressBytes.ToArray());
        Assert.Equal(port, read.Address.Port);
        Assert.Equal(data, read.Data.ToArray());
    }

    /// <summary>Reads once; returns status and error (consumed must be 0 unless done).</summary>
    public static (OperationStatus Status, UdpFrameError Error) Read(byte[] source, bool extended, int maxData = 65_000)
    {
        var status = UdpOverTcpFrame.TryRead(source, extended, maxData, out _, out int consumed, out var error);
        if (status != OperationStatus.Done)
        {
            Assert.Equal(0, consumed);
        }

        return (status, error);
    }
}
