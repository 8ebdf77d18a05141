using Socks5UdpRelay.Cli.Probe;
using Socks5UdpRelay.Cli.Tests.Fixtures;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary>The built-in requests are well formed: the strict test responders answer them.</summary>
public sealed class BuiltinProbesTests
{
    [Fact]
    public void Dns_IsAStandardQueryForTheRootNs()
    {
        byte[] query = BuiltinProbes.DnsRootNsQuery();

        Assert.Equal([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1], query[2..]);
        Assert.NotNull(ProtocolResponders.Dns(query));
    }

    [Fact]
    public void Ntp_IsAVersion4ClientPacketWithTheTransmitTime()
    {
        byte[] packet = BuiltinProbes.NtpClientRequest(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.Equal(48, packet.Length);
        Assert.Equal(0x23, packet[0]);
        // 2026-01-01 is 3976214400 s after 1900-01-01.
        Assert.Equal(3_976_214_400u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(40)));
        Assert.NotNull(ProtocolResponders.Ntp(packet));
    }

    [Fact]
    public void Snmp_IsAV2cGetOfSysDescrWithCommunityPublic()
    {
        byte[] request = BuiltinProbes.SnmpGetSysDescr();

        Assert.Equal(43, request.Length);
        Assert.Equal([0x30, 41, 0x02, 1, 1, 0x04, 6, .. "public"u8, 0xA0, 28, 0x02, 4], request[..17]);
        Assert.Equal([0x02, 1, 0, 0x02, 1, 0, 0x30, 14, 0x30, 12, 0x06, 8, 0x2B, 6, 1, 2, 1, 1, 1, 0, 0x05, 0], request[21..]);
        Assert.NotNull(ProtocolResponders.Snmp(request));
    }

    [Fact]
    public void For_OnlyTheThreeWellKnownPorts()
    {
        Assert.NotNull(BuiltinProbes.For(53));
        Assert.NotNull(BuiltinProbes.For(123));
        Assert.NotNull(BuiltinProbes.For(161));
        Assert.Null(BuiltinProbes.For(7));
    }

    [Fact]
    public void StrictResponders_IgnoreAnEmptyDatagram()
    {
        Assert.Null(ProtocolResponders.Dns([]));
        Assert.Null(ProtocolResponders.Ntp([]));
        Assert.Null(ProtocolResponders.Snmp([]));
    }
}
