using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// Forges an ICMP port unreachable (3/3, ICMPv6 1/4) from a raw socket in one namespace of a
/// topology, quoting a UDP datagram that may never have been sent, for spoof-resistance tests.
/// </summary>
internal static class ForgedIcmp
{
    private const int UdpHeaderLength = 8;

    /// <summary>Quoted payload bytes after the UDP header (the kernel needs only the 8-byte UDP header).</summary>
    private const int QuotedPayloadLength = 16;

    /// <summary>
    /// Sends, from <paramref name="ns"/>, a port unreachable to <paramref name="quotedSource"/>'s
    /// address that claims to be about a UDP datagram from <paramref name="quotedSource"/> to
    /// <paramref name="quotedDestination"/>. The ICMP's source is the sending namespace's own address.
    /// </summary>
    public static void SendPortUnreachable(NetnsTopology topology, string ns, IPEndPoint quotedSource, IPEndPoint quotedDestination)
    {
        var v4 = quotedSource.AddressFamily == AddressFamily.InterNetwork;
        using var socket = topology.CreateSocket(ns, quotedSource.AddressFamily, SocketType.Raw, v4 ? ProtocolType.Icmp : ProtocolType.IcmpV6);
        var message = v4 ? BuildV4(quotedSource, quotedDestination) : BuildV6(quotedSource, quotedDestination);
        socket.SendTo(message, new IPEndPoint(quotedSource.Address, 0));
    }

    /// <summary>RFC 792: type 3, code 3, checksum, 4 unused bytes, then the quoted IPv4 header and the first bytes of its payload.</summary>
    private static byte[] BuildV4(IPEndPoint source, IPEndPoint destination)
    {
        const int IpHeaderLength = 20;
        var message = new byte[8 + IpHeaderLength + UdpHeaderLength + QuotedPayloadLength];
        message[0] = 3;
        message[1] = 3;
        var ip = message.AsSpan(8, IpHeaderLength);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], IpHeaderLength + UdpHeaderLength + QuotedPayloadLength);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000);
        ip[8] = 64;
        ip[9] = (byte)ProtocolType.Udp;
        source.Address.TryWriteBytes(ip[12..16], out _);
        destination.Address.TryWriteBytes(ip[16..20], out _);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum(ip));
        WriteUdpHeader(message.AsSpan(8 + IpHeaderLength), source, destination);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), Checksum(message));
        return message;
    }

    /// <summary>RFC 4443: type 1, code 4, checksum (a raw ICMPv6 socket has the kernel fill it in), 4 unused bytes, then the quoted IPv6 header and payload.</summary>
    private static byte[] BuildV6(IPEndPoint source, IPEndPoint destination)
    {
        const int IpHeaderLength = 40;
        var message = new byte[8 + IpHeaderLength + UdpHeaderLength + QuotedPayloadLength];
        message[0] = 1;
        message[1] = 4;
        var ip = message.AsSpan(8, IpHeaderLength);
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], UdpHeaderLength + QuotedPayloadLength);
        ip[6] = (byte)ProtocolType.Udp;
        ip[7] = 64;
        source.Address.TryWriteBytes(ip[8..24], out _);
        destination.Address.TryWriteBytes(ip[24..40], out _);
        WriteUdpHeader(message.AsSpan(8 + IpHeaderLength), source, destination);
        return message;
    }

    private static void WriteUdpHeader(Span<byte> udp, IPEndPoint source, IPEndPoint destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)destination.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], UdpHeaderLength + QuotedPayloadLength);
    }

    /// <summary>The Internet checksum (RFC 1071) of bytes whose checksum field is zero.</summary>
    private static ushort Checksum(ReadOnlySpan<byte> bytes)
    {
        uint sum = 0;
        for (var i = 0; i + 1 < bytes.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
        }

        if (bytes.Length % 2 == 1)
        {
            sum += (uint)bytes[^1] << 8;
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
