using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Addressing;

/// <summary>
/// A resolved destination (IP and port) as a plain value, so the datagram path can look up its
/// socket without allocating an <see cref="IPAddress"/> or <see cref="EndPoint"/>. IPv4 is held
/// IPv4-mapped, so <c>1.2.3.4</c> and <c>::ffff:1.2.3.4</c> name the same destination.
/// </summary>
internal readonly record struct DestinationKey(UInt128 Address, ushort Port)
{
    private static readonly UInt128 MappedPrefix = (UInt128)0xFFFF << 32;
    private static readonly UInt128 MappedMask = ~(UInt128)uint.MaxValue;

    public bool IsIPv4 => (Address & MappedMask) == MappedPrefix;

    public uint IPv4Bits => (uint)Address;

    public static DestinationKey From(in SocksAddress address)
    {
        var bytes = address.AddressBytes;
        return address.Type switch
        {
            AddressType.IPv4 => new DestinationKey(MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(bytes), address.Port),
            AddressType.IPv6 => new DestinationKey(BinaryPrimitives.ReadUInt128BigEndian(bytes), address.Port),
            _ => throw new ArgumentException("A name has no key until it is resolved.", nameof(address)),
        };
    }

    public static DestinationKey From(IPAddress address, int port)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes, out _);
            return new DestinationKey(MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(bytes), (ushort)port);
        }

        address.TryWriteBytes(bytes, out _);
        return new DestinationKey(BinaryPrimitives.ReadUInt128BigEndian(bytes), (ushort)port);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        if (IsIPv4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, IPv4Bits);
            return new IPAddress(bytes[..4]);
        }

        BinaryPrimitives.WriteUInt128BigEndian(bytes, Address);
        return new IPAddress(bytes);
    }

    public IPEndPoint ToEndPoint() => new(ToIPAddress(), Port);

    public override string ToString() => NoticeFormat.FormatEndpoint(ToIPAddress(), Port);
}
