using System.Buffers;
using System.Net;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class Socks5ReplyTests
{
    private static readonly StatusReader Read = static (ReadOnlySpan<byte> s, out int c) => Socks5Reply.TryRead(s, out _, out _, out c);

    /// <summary>REP X'00' to X'08' of RFC 1928 §6.</summary>
    private static readonly ReplyCode[] AllCodes =
    [
        ReplyCode.Succeeded, ReplyCode.GeneralFailure, ReplyCode.ConnectionNotAllowed, ReplyCode.NetworkUnreachable,
        ReplyCode.HostUnreachable, ReplyCode.ConnectionRefused, ReplyCode.TtlExpired, ReplyCode.CommandNotSupported,
        ReplyCode.AddressTypeNotSupported,
    ];

    public static TheoryData<ReplyCode> ReplyCodes => new(AllCodes);

    /// <summary>Every REP code with every address row.</summary>
    public static TheoryData<ReplyCode, AddressType, byte[], ushort, byte[]> Replies
    {
        get
        {
            var data = new TheoryData<ReplyCode, AddressType, byte[], ushort, byte[]>();
            foreach (var code in AllCodes)
            {
                foreach (var row in WireAddresses.All)
                {
                    var (type, address, port, encoded) = ((AddressType)row[0], (byte[])row[1], (ushort)row[2], (byte[])row[3]);
                    data.Add(code, type, address, port, Concat([0x05, (byte)code, 0x00], encoded));
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void Write_MatchesRfcBytes(ReplyCode reply, AddressType type, byte[] address, ushort port, byte[] expected)
    {
        var buffer = new byte[Socks5Reply.MaxLength];

        int written = Socks5Reply.Write(buffer, reply, new SocksAddress(type, address, port));

        Assert.Equal(expected, buffer[..written]);
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void WriteThenRead_RoundTrips(ReplyCode reply, AddressType type, byte[] address, ushort port, byte[] expected)
    {
        var buffer = new byte[Socks5Reply.MaxLength];
        int written = Socks5Reply.Write(buffer, reply, new SocksAddress(type, address, port));

        var status = Socks5Reply.TryRead(buffer.AsSpan(0, written), out var readReply, out var bound, out int consumed);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(expected.Length, consumed);
        Assert.Equal(reply, readReply);
        Assert.Equal(type, bound.Type);
        Assert.Equal(address, bound.AddressBytes.ToArray());
        Assert.Equal(port, bound.Port);
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void Read_SplitAtEveryPoint_NeedsMoreDataUntilComplete(ReplyCode reply, AddressType type, byte[] address, ushort port, byte[] encoded)
    {
        AssertNeedsMoreDataUntilComplete(encoded, Read);
        Assert.Equal(OperationStatus.Done, Socks5Reply.TryRead(Concat(encoded, Trailer), out var readReply, out var bound, out _));
        Assert.Equal(reply, readReply);
        Assert.Equal(type, bound.Type);
        Assert.Equal(address, bound.AddressBytes.ToArray());
        Assert.Equal(port, bound.Port);
    }

    [Theory]
    [InlineData("127.0.0.1", 1080, "05 00 00 01 7F 00 00 01 04 38")]
    [InlineData("::ffff:127.0.0.1", 1080, "05 00 00 01 7F 00 00 01 04 38")]
    [InlineData("0.0.0.0", 0, "05 00 00 01 00 00 00 00 00 00")]
    [InlineData("2001:db8::1", 1080, "05 00 00 04 20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 01 04 38")]
    public void WriteIPAddress_MatchesRfcBytes(string address, ushort port, string expectedHex)
    {
        var buffer = new byte[Socks5Reply.MaxLength];

        int written = Socks5Reply.Write(buffer, ReplyCode.Succeeded, IPAddress.Parse(address), port);

        Assert.Equal(Hex(expectedHex), buffer[..written]);
    }

    [Theory]
    [MemberData(nameof(ReplyCodes))]
    public void WriteFailure_CarriesZeroIPv4Bound(ReplyCode reply)
    {
        var buffer = new byte[Socks5Reply.MaxLength];

        int written = Socks5Reply.WriteFailure(buffer, reply);

        Assert.Equal(Socks5Reply.FailureLength, written);
        Assert.Equal(new byte[] { 0x05, (byte)reply, 0x00, 0x01, 0, 0, 0, 0, 0, 0 }, buffer[..written]);
    }

    [Theory]
    [InlineData(0x09)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void Read_UnassignedReplyCode_IsReturned(byte rep)
    {
        Assert.Equal(OperationStatus.Done, Socks5Reply.TryRead([0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0], out var reply, out _, out int consumed));
        Assert.Equal(10, consumed);
        Assert.Equal(rep, (byte)reply);
    }

    [Theory]
    [InlineData("04 00 00 01 7F 00 00 01 04 38")]
    [InlineData("00 00 00 01 7F 00 00 01 04 38")]
    [InlineData("01 00")]
    public void Read_BadVersion_IsInvalid(string hex)
    {
        Assert.Equal(OperationStatus.InvalidData, Socks5Reply.TryRead(Hex(hex), out _, out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Theory]
    [MemberData(nameof(WireAddresses.UnknownAddressTypes), MemberType = typeof(WireAddresses))]
    public void Read_UnknownAtyp_IsInvalid(byte atyp)
    {
        Assert.Equal(OperationStatus.InvalidData, Socks5Reply.TryRead([0x05, 0x00, 0x00, atyp, 127, 0, 0, 1, 4, 0x38], out _, out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void Read_ZeroLengthName_IsInvalid()
    {
        Assert.Equal(OperationStatus.InvalidData, Socks5Reply.TryRead(Hex("05 00 00 03 00 04 38"), out _, out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void Describe_EveryCode_HasItsOwnText()
    {
        var texts = AllCodes.Select(Socks5Reply.Describe).ToList();

        Assert.Equal(9, AllCodes.Distinct().Count());

        Assert.All(texts, t => Assert.False(string.IsNullOrWhiteSpace(t)));
        Assert.Equal(texts.Count, texts.Distinct().Count());
        Assert.Equal("connection refused", Socks5Reply.Describe(ReplyCode.ConnectionRefused));
        Assert.Equal("unassigned reply code 0x09", Socks5Reply.Describe((ReplyCode)0x09));
    }
}
