using System.Buffers;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>
/// The notice opt-in of a <c>CMD=0x05</c> request (the README, "Notices and commands over TCP"):
/// ATYP 3, DST.ADDR <c>NOTICES</c>, DST.PORT 1, exactly; whatever a hev-socks5 client sends is not it.
/// </summary>
public class UdpOverTcpOptInTests
{
    [Fact]
    public void OptIn_OnTheWire_IsName7_NOTICES_Port1()
    {
        byte[] buffer = new byte[SocksAddressCodec.MaxEncodedLength];
        int written = SocksAddressCodec.Write(buffer, UdpOverTcpOptIn.Address);
        Assert.Equal(Hex("03 07 4E 4F 54 49 43 45 53 00 01"), buffer[..written]);
        Assert.True(UdpOverTcpOptIn.Matches(UdpOverTcpOptIn.Address));
    }

    [Theory]
    [InlineData("03 07 4E 4F 54 49 43 45 53 00 01", true)] // NOTICES:1
    [InlineData("01 00 00 00 00 00 00", false)] // 0.0.0.0:0, as hev-socks5-tunnel sends
    [InlineData("04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", false)]
    [InlineData("03 07 4E 4F 54 49 43 45 53 00 00", false)] // port 0
    [InlineData("03 07 4E 4F 54 49 43 45 53 00 02", false)] // a version this server does not speak
    [InlineData("03 07 4E 4F 54 49 43 45 53 01 00", false)] // 256: the port is big-endian
    [InlineData("03 07 6E 6F 74 69 63 65 73 00 01", false)] // notices: case-sensitive
    [InlineData("03 06 4E 4F 54 49 43 45 00 01", false)] // NOTICE
    [InlineData("03 08 4E 4F 54 49 43 45 53 2E 00 01", false)] // NOTICES.
    [InlineData("01 4E 4F 54 49 00 01", false)] // the bytes, as an IPv4 address
    public void Matches_OnlyTheExactName_AndVersion(string hex, bool expected)
    {
        Assert.Equal(OperationStatus.Done, SocksAddressCodec.TryRead(Hex(hex), out var address, out _));
        Assert.Equal(expected, UdpOverTcpOptIn.Matches(address));
    }
}
