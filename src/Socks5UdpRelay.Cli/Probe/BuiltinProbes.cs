using System.Buffers.Binary;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary>
/// Payloads for services that ignore an empty datagram, so <c>probe</c> can find them open: a
/// well-formed request of their protocol gets an answer where a bare datagram gets silence.
/// </summary>
internal static class BuiltinProbes
{
    public const int Dns = 53;
    public const int Ntp = 123;
    public const int Snmp = 161;

    /// <summary>The built-in request for <paramref name="port"/>, or null where there is none.</summary>
    public static byte[]? For(int port) => port switch
    {
        Dns => DnsRootNsQuery(),
        Ntp => NtpClientRequest(DateTime.UtcNow),
        Snmp => SnmpGetSysDescr(),
        _ => null,
    };

    public static string? Name(int port) => port switch
    {
        Dns => "DNS query . NS",
        Ntp => "NTP client request",
        Snmp => "SNMPv2c get sysDescr.0 (community public)",
        _ => null,
    };

    /// <summary>
    /// RFC 1035 §4.1: a standard query (QR 0, OPCODE 0, RD 0) for the root's NS records, which
    /// every DNS server, recursive or not, answers (with data, a referral or REFUSED).
    /// <code>
    /// ID(2) FLAGS(2) QDCOUNT=1 ANCOUNT=0 NSCOUNT=0 ARCOUNT=0 | QNAME=00 QTYPE=2 (NS) QCLASS=1 (IN)
    /// </code>
    /// </summary>
    public static byte[] DnsRootNsQuery()
    {
        var query = new byte[12 + 1 + 2 + 2];
        BinaryPrimitives.WriteUInt16BigEndian(query, (ushort)Random.Shared.Next(1, 65536));
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(4), 1);
        // query[12] = 0: the root name, one empty label.
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(13), 2);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(15), 1);
        return query;
    }

    /// <summary>
    /// RFC 5905 §7.3: a 48-byte client packet, LI 0, VN 4, Mode 3, with the transmit timestamp
    /// set (servers echo it as the origin timestamp; some drop a request whose timestamp is zero).
    /// <code>
    /// LI|VN|Mode(1) Stratum(1) Poll(1) Precision(1) RootDelay(4) RootDispersion(4) RefID(4)
    /// Reference(8) Origin(8) Receive(8) Transmit(8)
    /// </code>
    /// </summary>
    public static byte[] NtpClientRequest(DateTime utcNow)
    {
        var packet = new byte[48];
        packet[0] = (0 << 6) | (4 << 3) | 3;
        // NTP time counts seconds from 1900-01-01; the fraction is in 2^-32 s.
        var sinceEra = utcNow - new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        ulong seconds = (ulong)sinceEra.TotalSeconds;
        ulong fraction = (ulong)((sinceEra.TotalSeconds - seconds) * 4294967296.0);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(40), (uint)seconds);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(44), (uint)fraction);
        return packet;
    }

    /// <summary>
    /// RFC 3416 (SNMPv2c, RFC 1901 message) GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0), community
    /// <c>public</c>, in BER. Version 1 is v2c; agents that speak only v1 answer it too or stay silent.
    /// <code>
    /// SEQUENCE { INTEGER version=1, OCTET STRING community,
    ///   [A0] GetRequest { INTEGER request-id, INTEGER error-status=0, INTEGER error-index=0,
    ///     SEQUENCE { SEQUENCE { OID 1.3.6.1.2.1.1.1.0, NULL } } } }
    /// </code>
    /// </summary>
    public static byte[] SnmpGetSysDescr()
    {
        byte[] sysDescr = [0x2B, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00];
        byte[] requestId = new byte[4];
        // From 0x01000000 up: four significant bytes, so the INTEGER is minimally encoded as BER requires.
        BinaryPrimitives.WriteInt32BigEndian(requestId, Random.Shared.Next(0x0100_0000, int.MaxValue));
        var varBind = Tlv(0x30, [.. Tlv(0x06, sysDescr), .. Tlv(0x05, [])]);
        var pdu = Tlv(0xA0, [.. Tlv(0x02, requestId), .. Tlv(0x02, [0]), .. Tlv(0x02, [0]), .. Tlv(0x30, varBind)]);
        return Tlv(0x30, [.. Tlv(0x02, [1]), .. Tlv(0x04, "public"u8.ToArray()), .. pdu]);
    }

    // Short-form lengths only: every element here is under 128 bytes.
    private static byte[] Tlv(byte tag, byte[] value) => [tag, (byte)value.Length, .. value];
}
