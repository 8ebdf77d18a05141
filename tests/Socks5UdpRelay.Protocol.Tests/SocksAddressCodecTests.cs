using System.Buffers;
using System.Net;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class SocksAddressCodecTests
{
    [Theory]
    [MemberData(nameof(WireAddresses.All), MemberType = typeof(WireAddresses))]
    public void Write_MatchesRfcBytes(AddressType type, byte[] address, ushort port, byte[] expected)
    {
        var buffer = new byte[SocksAddressCodec.MaxEncodedLength];

        int written = SocksAddressCodec.Write(buffer, type, address, port);

        Assert.Equal(expected, buffer[..written]);
        Assert.Equal(expected.Length, SocksAddressCodec.GetEncodedLength(type, address.Length));
    }

    [Theory]
    [MemberData(nameof(WireAddresses.All), MemberType = typeof(WireAddresses))]
    public void WriteThenRead_RoundTrips(AddressType type, byte[] address, ushort port, byte[] expected)
    {
        var buffer = new byte[SocksAddressCodec.MaxEncodedLength];
        int written = SocksAddressCodec.Write(buffer, new SocksAddress(type, address, port));

        var status = SocksAddressCodec.TryRead(buffer.AsSpan(0, written), out var read, out int consumed);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(expected.Length, consumed);
        Assert.Equal(type, read.Type);
        Assert.Equal(address, read.AddressBytes.ToArray());
        Assert.Equal(port, read.Port);
        Assert.Equal(expected.Length, read.EncodedLength);
    }

    [Theory]
    [MemberData(nameof(WireAddresses.All), MemberType = typeof(WireAddresses))]
    public void Read_SplitAtEveryPoint_NeedsMoreDataUntilComplete(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        AssertNeedsMoreDataUntilComplete(encoded, static (ReadOnlySpan<byte> s, out int c) => SocksAddressCodec.TryRead(s, out _, out c));

        // The view points into the input, so a reader can take the name without copying.
        Assert.Equal(OperationStatus.Done, SocksAddressCodec.TryRead(encoded, out var read, out _));
        Assert.Equal(type, read.Type);
        Assert.Equal(address, read.AddressBytes.ToArray());
        Assert.Equal(port, read.Port);
    }

    [Theory]
    [MemberData(nameof(WireAddresses.UnknownAddressTypes), MemberType = typeof(WireAddresses))]
    public void Read_UnknownAtyp_IsInvalidData(byte atyp)
    {
        byte[] source = [atyp, 127, 0, 0, 1, 0, 53];

        Assert.Equal(OperationStatus.InvalidData, SocksAddressCodec.TryRead(source, out _, out int consumed));
        Assert.Equal(0, consumed);

        // Known to be malformed from its first byte: no point waiting for more.
        Assert.Equal(OperationStatus.InvalidData, SocksAddressCodec.TryRead(source.AsSpan(0, 1), out _, out _));
    }

    [Fact]
    public void Read_ZeroLengthName_IsInvalidData()
    {
        Assert.Equal(OperationStatus.InvalidData, SocksAddressCodec.TryRead(Hex("03 00 00 35"), out _, out int consumed));
        Assert.Equal(0, consumed);
        Assert.Equal(OperationStatus.InvalidData, SocksAddressCodec.TryRead(Hex("03 00"), out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(300)]
    public void Write_NameOutsideOneTo255Bytes_Throws(int length)
    {
        var name = Repeat((byte)'a', length);
        var buffer = new byte[600];

        Assert.Throws<ArgumentException>(() => SocksAddressCodec.Write(buffer, AddressType.DomainName, name, 53));
    }

    [Theory]
    [InlineData(AddressType.IPv4, 3)]
    [InlineData(AddressType.IPv4, 5)]
    [InlineData(AddressType.IPv4, 16)]
    [InlineData(AddressType.IPv6, 4)]
    [InlineData(AddressType.IPv6, 15)]
    [InlineData((AddressType)0x02, 4)]
    [InlineData((AddressType)0x00, 4)]
    public void Write_AddressThatAtypCannotCarry_Throws(AddressType type, int length)
    {
        var buffer = new byte[SocksAddressCodec.MaxEncodedLength];

        Assert.Throws<ArgumentException>(() => SocksAddressCodec.Write(buffer, type, new byte[length], 53));
    }

    [Theory]
    [InlineData("a", "03 01 61 00 35")]
    [InlineData("ntp.example", "03 0B 6E 74 70 2E 65 78 61 6D 70 6C 65 00 35")]
    public void WriteDomain_MatchesRfcBytes(string host, string expectedHex)
    {
        var buffer = new byte[SocksAddressCodec.MaxEncodedLength];

        int written = SocksAddressCodec.WriteDomain(buffer, host, 53);

        Assert.Equal(Hex(expectedHex), buffer[..written]);
    }

    [Fact]
    public void WriteDomain_255Characters_IsWritten()
    {
        string host = new('h', 255);
        var buffer = new byte[SocksAddressCodec.MaxEncodedLength];

        int written = SocksAddressCodec.WriteDomain(buffer, host, 53);

        Assert.Equal(SocksAddressCodec.MaxEncodedLength, written);
        Assert.Equal(255, buffer[1]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("bücher.example")]
    public void WriteDomain_EmptyOrNonAscii_Throws(string host)
    {
        var buffer = new byte[SocksAddressCodec.MaxEncodedLength];

        Assert.Throws<ArgumentException>(() => SocksAddressCodec.WriteDomain(buffer, host, 53));
    }

    [Fact]
    public void WriteDomain_256Characters_Throws()
    {
        var buffer = new byte[SocksAddressCodec.MaxEncodedLength + 10];

        Assert.Throws<ArgumentException>(() => SocksAddressCodec.WriteDomain(buffer, new string('h', 256), 53));
    }

    [Theory]
    [InlineData("127.0.0.1", 1080, "01 7F 00 00 01 04 38")]
    [InlineData("::ffff:127.0.0.1", 1080, "01 7F 00 00 01 04 38")]
    [InlineData("::ffff:203.0.113.7", 555, "01 CB 00 71 07 02 2B")]
    [InlineData("::1", 53, "04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 35")]
    [InlineData("2001:db8::7", 53, "04 20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 07 00 35")]
    public void WriteIPAddress_MappedIPv6AsIPv4(string address, ushort port, string expectedHex)
    {
        var buffer = new byte[SocksAddressCodec.MaxEncodedLength];

        int written = SocksAddressCodec.Write(buffer, IPAddress.Parse(address), port);

        Assert.Equal(Hex(expectedHex), buffer[..written]);
    }

    [Theory]
    [MemberData(nameof(WireAddresses.All), MemberType = typeof(WireAddresses))]
    public void Write_DestinationTooShort_Throws(AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        Assert.ThrowsAny<ArgumentException>(() => SocksAddressCodec.Write(new byte[encoded.Length - 1], type, address, port));
    }

    [Fact]
    public void MaxEncodedLength_IsAtypLengthNamePort()
    {
        Assert.Equal(1 + 1 + 255 + 2, SocksAddressCodec.MaxEncodedLength);
        Assert.Equal(255, SocksAddressCodec.MaxDomainNameLength);
        Assert.Equal(7, SocksAddressCodec.GetEncodedLength(AddressType.IPv4, 4));
        Assert.Equal(19, SocksAddressCodec.GetEncodedLength(AddressType.IPv6, 16));
    }
}
