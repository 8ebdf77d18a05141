using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Addressing;

/// <summary>
/// Linux socket addresses as raw bytes, the form recvmmsg, sendmmsg, bind and connect use:
/// sockaddr_in (16 bytes: u16 family in host order, be16 port, 4-byte address) and sockaddr_in6
/// (28 bytes: family, port, u32 flowinfo, 16-byte address at 8, u32 scope id at 24).
/// </summary>
internal static class RawSocketAddress
{
    public const int PortOffset = 2;

    /// <summary>The largest address written here (sockaddr_in6), rounded up to 8.</summary>
    public const int MaxLength = 32;

    /// <summary>Writes <paramref name="address"/>:<paramref name="port"/>; returns the length (16 or 28). IPv4-mapped IPv6 is written as what it is (IPv6).</summary>
    public static int Write(Span<byte> destination, IPAddress address, int port)
    {
        destination[..MaxLength].Clear();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            MemoryMarshal.Write(destination, AddressFamilies.AF_INET);
            BinaryPrimitives.WriteUInt16BigEndian(destination[PortOffset..], (ushort)port);
            address.TryWriteBytes(destination.Slice(4, 4), out _);
            return Sockaddr.InSize;
        }

        MemoryMarshal.Write(destination, AddressFamilies.AF_INET6);
        BinaryPrimitives.WriteUInt16BigEndian(destination[PortOffset..], (ushort)port);
        address.TryWriteBytes(destination.Slice(8, 16), out _);
        MemoryMarshal.Write(destination[24..], (uint)address.ScopeId);
        return Sockaddr.In6Size;
    }

    /// <summary>Writes a destination key in its own family (IPv4 for a v4-mapped key).</summary>
    public static int Write(Span<byte> destination, in DestinationKey key)
    {
        destination[..MaxLength].Clear();
        if (key.IsIPv4)
        {
            MemoryMarshal.Write(destination, AddressFamilies.AF_INET);
            BinaryPrimitives.WriteUInt16BigEndian(destination[PortOffset..], key.Port);
            BinaryPrimitives.WriteUInt32BigEndian(destination[4..], key.IPv4Bits);
            return Sockaddr.InSize;
        }

        MemoryMarshal.Write(destination, AddressFamilies.AF_INET6);
        BinaryPrimitives.WriteUInt16BigEndian(destination[PortOffset..], key.Port);
        BinaryPrimitives.WriteUInt128BigEndian(destination[8..], key.Address);
        return Sockaddr.In6Size;
    }

    /// <summary>Reads an address; a v4-mapped IPv6 address comes back as IPv4. False for anything else (AF_UNSPEC, short).</summary>
    public static bool TryRead(ReadOnlySpan<byte> sockaddr, [NotNullWhen(true)] out IPAddress? address, out int port)
    {
        address = null;
        port = 0;
        if (sockaddr.Length < sizeof(ushort))
        {
            return false;
        }

        ushort family = MemoryMarshal.Read<ushort>(sockaddr);
        if (family == AddressFamilies.AF_INET && sockaddr.Length >= Sockaddr.InSize)
        {
            port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[PortOffset..]);
            address = new IPAddress(sockaddr.Slice(4, 4));
            return true;
        }

        if (family == AddressFamilies.AF_INET6 && sockaddr.Length >= Sockaddr.In6Size)
        {
            port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[PortOffset..]);
            address = new IPAddress(sockaddr.Slice(8, 16), MemoryMarshal.Read<uint>(sockaddr[24..]));
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            return true;
        }

        return false;
    }

    /// <summary>Reads an address as a destination key without allocating (a v4-mapped IPv6 address is the IPv4 one, as keys hold it). False for anything else.</summary>
    public static bool TryReadKey(ReadOnlySpan<byte> sockaddr, out DestinationKey key)
    {
        key = default;
        if (sockaddr.Length < sizeof(ushort))
        {
            return false;
        }

        ushort family = MemoryMarshal.Read<ushort>(sockaddr);
        if (family == AddressFamilies.AF_INET && sockaddr.Length >= Sockaddr.InSize)
        {
            key = new DestinationKey(
                ((UInt128)0xFFFF << 32) | BinaryPrimitives.ReadUInt32BigEndian(sockaddr[4..]), BinaryPrimitives.ReadUInt16BigEndian(sockaddr[PortOffset..]));
            return true;
        }

        if (family == AddressFamilies.AF_INET6 && sockaddr.Length >= Sockaddr.In6Size)
        {
            key = new DestinationKey(BinaryPrimitives.ReadUInt128BigEndian(sockaddr[8..]), BinaryPrimitives.ReadUInt16BigEndian(sockaddr[PortOffset..]));
            return true;
        }

        return false;
    }

    /// <summary>For logs: <c>1.2.3.4:5</c>, <c>[::1]:5</c>, or the bytes in hex when they are no address.</summary>
    public static string Describe(ReadOnlySpan<byte> sockaddr)
        => TryRead(sockaddr, out var address, out int port) ? new IPEndPoint(address, port).ToString() : Convert.ToHexString(sockaddr);
}
