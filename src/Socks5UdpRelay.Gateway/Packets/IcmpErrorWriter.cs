using System.Buffers.Binary;

namespace Socks5UdpRelay.Gateway.Packets;

/// <summary>
/// Builds ICMP and ICMPv6 error packets that quote a program's datagram, addressed to the program
/// (the quoted packet's source) from a reporter, so the program's kernel hands the error to the
/// socket that sent the datagram.
/// <para>ICMPv4 (RFC 792; RFC 1191 for the next-hop MTU of 3/4):</para>
/// <code>
/// +--------+--------+-----------------+
/// |  Type  |  Code  |    Checksum     |
/// +--------+--------+-----------------+
/// | unused / pointer (12) | next-hop MTU (3/4) |
/// +-----------------------------------+
/// | original IP header + as much of its data as fits in 576 bytes (RFC 1812 §4.3.2.3)
/// </code>
/// <para>ICMPv6 (RFC 4443 §3):</para>
/// <code>
/// +--------+--------+-----------------+
/// |  Type  |  Code  |    Checksum     |
/// +--------+--------+-----------------+
/// |   MTU (2/0) / pointer (4/x) / unused    |
/// +-----------------------------------+
/// | as much of the invoking packet as fits in 1280 bytes (RFC 4443 §2.4 (c))
/// </code>
/// The outer fields are Linux's own: IPv4 TOS = the quoted TOS bits with precedence "internetwork
/// control" (0xC0), DF clear, no options; IPv6 traffic class 0. Tests compare the output byte for
/// byte with errors the kernel generated.
/// </summary>
internal static class IcmpErrorWriter
{
    /// <summary>RFC 1812 §4.3.2.3, and what Linux sends: no ICMPv4 error longer than 576 bytes.</summary>
    public const int MaxIPv4Length = 576;

    /// <summary>RFC 4443 §2.4 (c): no ICMPv6 error longer than the minimum IPv6 MTU.</summary>
    public const int MaxIPv6Length = 1280;

    public const int IcmpHeaderLength = 8;
    public const byte IcmpProtocol = 1;
    public const byte Icmpv6Protocol = 58;

    /// <summary>The most of a datagram an ICMPv4 error quotes: 576 − 20 − 8 = 548.</summary>
    public const int MaxIPv4Quote = MaxIPv4Length - Ipv4Header.MinLength - IcmpHeaderLength;

    /// <summary>The most of a packet an ICMPv6 error quotes: 1280 − 40 − 8 = 1232.</summary>
    public const int MaxIPv6Quote = MaxIPv6Length - Ipv6Header.Length - IcmpHeaderLength;

    /// <summary>IPTOS_PREC_INTERNETCONTROL: the precedence Linux gives its ICMP errors.</summary>
    private const byte InternetControlPrecedence = 0xC0;

    /// <summary>IPTOS_TOS_MASK: the TOS bits (RFC 1349) Linux copies from the quoted header.</summary>
    private const byte TosBitsMask = 0x1E;

    /// <summary>
    /// Writes an ICMPv4 error about <paramref name="original"/> (an IPv4 packet, header first) and
    /// returns its length. <paramref name="info"/> is the next-hop MTU for 3/4 and the pointer for
    /// type 12; it is ignored otherwise.
    /// </summary>
    public static int WriteIPv4(
        Span<byte> destination,
        byte type,
        byte code,
        uint info,
        ReadOnlySpan<byte> reporter,
        ReadOnlySpan<byte> original,
        byte ttl,
        ushort identification)
    {
        var quote = original[..Math.Min(original.Length, MaxIPv4Quote)];
        int length = Ipv4Header.MinLength + IcmpHeaderLength + quote.Length;
        byte tos = (byte)((original[Ipv4Header.TypeOfServiceOffset] & TosBitsMask) | InternetControlPrecedence);
        var program = original.Slice(Ipv4Header.SourceOffset, Ipv4Header.AddressLength);
        Ipv4Header.Write(destination, tos, length, identification, dontFragment: false, ttl, IcmpProtocol, reporter, program);

        var icmp = destination[Ipv4Header.MinLength..length];
        icmp[0] = type;
        icmp[1] = code;
        icmp[2..8].Clear();
        if (type == 3 && code == 4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], (ushort)Math.Min(info, ushort.MaxValue));
        }
        else if (type == 12)
        {
            icmp[4] = (byte)Math.Min(info, byte.MaxValue);
        }

        quote.CopyTo(icmp[IcmpHeaderLength..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp));
        return length;
    }

    /// <summary>
    /// Writes an ICMPv6 error about <paramref name="original"/> (an IPv6 packet, header first) and
    /// returns its length. <paramref name="info"/> is the MTU for 2/0 and the pointer for type 4;
    /// it is written as the 32-bit field after the checksum for those types, and 0 otherwise.
    /// </summary>
    public static int WriteIPv6(
        Span<byte> destination,
        byte type,
        byte code,
        uint info,
        ReadOnlySpan<byte> reporter,
        ReadOnlySpan<byte> original,
        byte hopLimit,
        uint flowLabel = 0)
    {
        var quote = original[..Math.Min(original.Length, MaxIPv6Quote)];
        int icmpLength = IcmpHeaderLength + quote.Length;
        var program = original.Slice(Ipv6Header.SourceOffset, Ipv6Header.AddressLength);
        Ipv6Header.Write(destination, 0, flowLabel, icmpLength, Icmpv6Protocol, hopLimit, reporter, program);

        var icmp = destination.Slice(Ipv6Header.Length, icmpLength);
        icmp[0] = type;
        icmp[1] = code;
        icmp[2..4].Clear();
        BinaryPrimitives.WriteUInt32BigEndian(icmp[4..], type is 2 or 4 ? info : 0);
        quote.CopyTo(icmp[IcmpHeaderLength..]);
        ulong sum = Ipv6Header.PseudoHeaderSum(reporter, program, icmpLength, Icmpv6Protocol);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Finish(InternetChecksum.Add(sum, icmp)));
        return Ipv6Header.Length + icmpLength;
    }
}
