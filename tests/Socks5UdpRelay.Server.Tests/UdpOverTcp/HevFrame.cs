using System.Net;
using System.Text;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// Frames as a hev-socks5 client writes them after <c>CMD=0x05</c>, built from the README ("UDP
/// over TCP") byte by byte, without the product's codec, so the tests do not share its mistakes:
/// <code>
/// +--------+--------+------+----------+----------+----------+
/// | DATLEN | HDRLEN | ATYP | DST.ADDR | DST.PORT |   DATA   |
/// |   2    |   1    |  1   | Variable |    2     | Variable |
/// </code>
/// A mapped frame has <c>0x80</c> in ATYP and the mapping (2 bytes) before DST.ADDR; a control
/// frame is <c>DATLEN 04 FF line</c>.
/// </summary>
internal static class HevFrame
{
    public static byte[] Datagram(IPEndPoint destination, ReadOnlySpan<byte> data, ushort mapping = 0)
    {
        var ip = destination.Address.IsIPv4MappedToIPv6 ? destination.Address.MapToIPv4() : destination.Address;
        byte atyp = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? (byte)0x01 : (byte)0x04;
        return Build(atyp, mapping, ip.GetAddressBytes(), destination.Port, data);
    }

    public static byte[] Datagram(string name, int port, ReadOnlySpan<byte> data, ushort mapping = 0)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(name);
        return Build(0x03, mapping, [(byte)bytes.Length, .. bytes], port, data);
    }

    /// <summary>A control frame carrying <paramref name="text"/> as it stands (a well-formed one ends in one <c>\n</c>).</summary>
    public static byte[] Control(string text)
    {
        byte[] line = Encoding.ASCII.GetBytes(text);
        return [(byte)(line.Length >> 8), (byte)line.Length, 0x04, 0xFF, .. line];
    }

    private static byte[] Build(byte atyp, ushort mapping, byte[] address, int port, ReadOnlySpan<byte> data)
    {
        var header = new List<byte> { (byte)(data.Length >> 8), (byte)data.Length, 0 };
        if (mapping == 0)
        {
            header.Add(atyp);
        }
        else
        {
            header.AddRange([(byte)(atyp | 0x80), (byte)(mapping >> 8), (byte)mapping]);
        }

        header.AddRange(address);
        header.AddRange([(byte)(port >> 8), (byte)port]);
        header[2] = checked((byte)header.Count);
        return [.. header, .. data];
    }
}
