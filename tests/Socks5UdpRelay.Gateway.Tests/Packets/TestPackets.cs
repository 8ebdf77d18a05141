using System.Buffers.Binary;
using System.Net;
using Socks5UdpRelay.Gateway.Packets;

namespace Socks5UdpRelay.Gateway.Tests.Packets;

/// <summary>Packets for tests, built with the writers the kernel-capture tests check byte for byte.</summary>
internal static class TestPackets
{
    public static byte[] UdpV4(string source, ushort sourcePort, string destination, ushort destinationPort, byte[] payload, byte ttl = 64, ushort id = 1, bool dontFragment = true, byte tos = 0)
    {
        var packet = new byte[28 + payload.Length];
        UdpPacketWriter.WriteIPv4(packet, Bytes(source), sourcePort, Bytes(destination), destinationPort, payload, ttl, id, dontFragment, tos);
        payload.CopyTo(packet, 28);
        return packet;
    }

    public static byte[] UdpV6(string source, ushort sourcePort, string destination, ushort destinationPort, byte[] payload, byte hopLimit = 64, uint flowLabel = 0)
    {
        var packet = new byte[48 + payload.Length];
        UdpPacketWriter.WriteIPv6(packet, Bytes(source), sourcePort, Bytes(destination), destinationPort, payload, hopLimit, flowLabel);
        payload.CopyTo(packet, 48);
        return packet;
    }

    public static byte[] Bytes(string address) => IPAddress.Parse(address).GetAddressBytes();

    /// <summary>Re-computes an IPv4 header's checksum after a test changed a field.</summary>
    public static void FixIPv4Checksum(byte[] packet)
    {
        int ihl = Math.Min((packet[0] & 0x0F) * 4, packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), InternetChecksum.Compute(packet.AsSpan(0, ihl)));
    }

    /// <summary>An IPv4 packet with <paramref name="optionWords"/> × 4 bytes of options (NOPs) inserted after the fixed header.</summary>
    public static byte[] WithOptions(byte[] packet, int optionWords)
    {
        var result = new byte[packet.Length + (optionWords * 4)];
        packet.AsSpan(0, 20).CopyTo(result);
        result.AsSpan(20, optionWords * 4).Fill(1);
        packet.AsSpan(20).CopyTo(result.AsSpan(20 + (optionWords * 4)));
        result[0] = (byte)(0x40 | (5 + optionWords));
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(2), (ushort)result.Length);
        FixIPv4Checksum(result);
        return result;
    }

    /// <summary>An IPv6 packet with extension headers inserted: each (type, total length in bytes, a multiple of 8).</summary>
    public static byte[] WithExtensions(byte[] packet, params (byte Type, int Length)[] headers)
    {
        int extra = headers.Sum(h => h.Length);
        var result = new byte[packet.Length + extra];
        packet.AsSpan(0, 40).CopyTo(result);
        byte upper = packet[6];
        result[6] = headers[0].Type;
        int offset = 40;
        for (int i = 0; i < headers.Length; i++)
        {
            result[offset] = i + 1 < headers.Length ? headers[i + 1].Type : upper;
            result[offset + 1] = (byte)((headers[i].Length / 8) - 1);
            offset += headers[i].Length;
        }

        packet.AsSpan(40).CopyTo(result.AsSpan(offset));
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(4), (ushort)(result.Length - 40));
        return result;
    }
}
