using System.Buffers.Binary;

namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>An IP endpoint as a value: the address as a 128-bit number (an IPv4 address in the low 32 bits), the port and the family.</summary>
internal readonly record struct FlowKey(UInt128 Address, ushort Port, bool IsIPv6)
{
    public static FlowKey From(ReadOnlySpan<byte> address, ushort port) =>
        new(ReadAddress(address), port, address.Length == 16);

    public static UInt128 ReadAddress(ReadOnlySpan<byte> address) =>
        address.Length == 16 ? BinaryPrimitives.ReadUInt128BigEndian(address) : BinaryPrimitives.ReadUInt32BigEndian(address);

    /// <summary>Writes the address (4 or 16 bytes) and returns its length.</summary>
    public int WriteAddress(Span<byte> destination)
    {
        if (IsIPv6)
        {
            BinaryPrimitives.WriteUInt128BigEndian(destination, Address);
            return 16;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Address);
        return 4;
    }
}
