using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>
/// ATYP DST.ADDR DST.PORT fields written out by hand from RFC 1928 §4/§5: one row per address
/// type and edge (shortest and longest name), with the exact bytes they must encode to.
/// </summary>
public static class WireAddresses
{
    /// <summary>A 255-byte name, the longest one length byte can announce.</summary>
    public static readonly byte[] Name255 = Ascii(string.Concat(Enumerable.Repeat("abcdefghi.", 25)) + "xyz.q");

    /// <summary>Names are bytes on the wire; nothing says they are printable.</summary>
    public static readonly byte[] BinaryName = [0x00, (byte)' ', (byte)'%', (byte)'=', (byte)':', 0x7F, 0xFF];

    public static TheoryData<AddressType, byte[], ushort, byte[]> All => new()
    {
        { AddressType.IPv4, [127, 0, 0, 1], 1080, Hex("01 7F 00 00 01 04 38") },
        { AddressType.IPv4, [0, 0, 0, 0], 0, Hex("01 00 00 00 00 00 00") },
        { AddressType.IPv4, [255, 255, 255, 255], 65535, Hex("01 FF FF FF FF FF FF") },
        {
            AddressType.IPv6, Hex("20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 01"), 53,
            Hex("04 20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 01 00 35")
        },
        {
            AddressType.IPv6, new byte[16], 0,
            Hex("04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")
        },
        { AddressType.DomainName, Ascii("a"), 1, Hex("03 01 61 00 01") },
        { AddressType.DomainName, Ascii("example.com"), 443, Hex("03 0B 65 78 61 6D 70 6C 65 2E 63 6F 6D 01 BB") },
        { AddressType.DomainName, BinaryName, 7, Concat([0x03, 0x07], BinaryName, [0x00, 0x07]) },
        { AddressType.DomainName, Name255, 65535, Concat([0x03, 0xFF], Name255, [0xFF, 0xFF]) },
    };

    /// <summary>ATYP values RFC 1928 does not define.</summary>
    public static TheoryData<byte> UnknownAddressTypes => new() { 0x00, 0x02, 0x05, 0x06, 0x7F, 0xFF };
}
