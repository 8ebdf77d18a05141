using System.Buffers;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class Socks5RequestTests
{
    private static readonly StatusReader Read = static (ReadOnlySpan<byte> s, out int c) => Socks5Request.TryRead(s, out _, out _, out c);

    /// <summary>Every CMD with every address row: VER CMD RSV followed by the address bytes.</summary>
    public static TheoryData<Socks5Command, AddressType, byte[], ushort, byte[]> Requests
    {
        get
        {
            var data = new TheoryData<Socks5Command, AddressType, byte[], ushort, byte[]>();
            foreach (var command in new[] { Socks5Command.Connect, Socks5Command.Bind, Socks5Command.UdpAssociate })
            {
                foreach (var row in WireAddresses.All)
                {
                    var (type, address, port, encoded) = ((AddressType)row[0], (byte[])row[1], (ushort)row[2], (byte[])row[3]);
                    data.Add(command, type, address, port, Concat([0x05, (byte)command, 0x00], encoded));
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public void Write_MatchesRfcBytes(Socks5Command command, AddressType type, byte[] address, ushort port, byte[] expected)
    {
        var buffer = new byte[Socks5Request.MaxLength];

        int written = Socks5Request.Write(buffer, command, new SocksAddress(type, address, port));

        Assert.Equal(expected, buffer[..written]);
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public void WriteThenRead_RoundTrips(Socks5Command command, AddressType type, byte[] address, ushort port, byte[] expected)
    {
        var buffer = new byte[Socks5Request.MaxLength];
        int written = Socks5Request.Write(buffer, command, new SocksAddress(type, address, port));

        var status = Socks5Request.TryRead(buffer.AsSpan(0, written), out var readCommand, out var destination, out int consumed);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(expected.Length, consumed);
        Assert.Equal(command, readCommand);
        Assert.Equal(type, destination.Type);
        Assert.Equal(address, destination.AddressBytes.ToArray());
        Assert.Equal(port, destination.Port);
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public void Read_SplitAtEveryPoint_NeedsMoreDataUntilComplete(Socks5Command command, AddressType type, byte[] address, ushort port, byte[] request)
    {
        AssertNeedsMoreDataUntilComplete(request, Read);
        Assert.Equal(OperationStatus.Done, Socks5Request.TryRead(Concat(request, Trailer), out var readCommand, out var destination, out _));
        Assert.Equal(command, readCommand);
        Assert.Equal(type, destination.Type);
        Assert.Equal(address, destination.AddressBytes.ToArray());
        Assert.Equal(port, destination.Port);
    }

    [Theory]
    [InlineData("05 01 00 01 7F 00 00 01 00 50", Socks5Command.Connect, "127.0.0.1:80")]
    [InlineData("05 03 00 01 00 00 00 00 00 00", Socks5Command.UdpAssociate, "0.0.0.0:0")]
    [InlineData("05 03 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 35", Socks5Command.UdpAssociate, "[::1]:53")]
    [InlineData("05 01 00 03 0B 65 78 61 6D 70 6C 65 2E 63 6F 6D 01 BB", Socks5Command.Connect, "example.com:443")]
    [InlineData("05 05 00 01 00 00 00 00 00 00", Socks5Command.UdpOverTcp, "0.0.0.0:0")] // hev-socks5-tunnel's UDP over TCP
    [InlineData("05 05 00 03 07 4E 4F 54 49 43 45 53 00 01", Socks5Command.UdpOverTcp, "NOTICES:1")] // with the notice opt-in
    public void Read_HandWrittenRequest_IsUnderstood(string hex, Socks5Command expectedCommand, string expectedDestination)
    {
        byte[] request = Hex(hex);

        Assert.Equal(OperationStatus.Done, Socks5Request.TryRead(request, out var command, out var destination, out int consumed));
        Assert.Equal(request.Length, consumed);
        Assert.Equal(expectedCommand, command);
        Assert.Equal(expectedDestination, destination.ToString());
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x04)]
    [InlineData(0x06)]
    [InlineData(0x7F)]
    [InlineData(0xFF)]
    public void Read_UnknownCommand_IsReturnedSoTheServerCanAnswer07(byte cmd)
    {
        byte[] request = [0x05, cmd, 0x00, 0x01, 10, 0, 0, 1, 0x00, 0x35];

        var status = Socks5Request.TryRead(request, out var command, out var destination, out int consumed, out _);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(request.Length, consumed);
        Assert.Equal(cmd, (byte)command);
        Assert.False(Enum.IsDefined(command));
        Assert.Equal("10.0.0.1:53", destination.ToString());
    }

    [Theory]
    [InlineData(0x04)]
    [InlineData(0x01)]
    [InlineData(0x00)]
    [InlineData(0xFF)]
    public void Read_BadVersion_IsInvalid(byte version)
    {
        byte[] request = [version, 0x01, 0x00, 0x01, 127, 0, 0, 1, 0x00, 0x50];

        Assert.Equal(OperationStatus.InvalidData, Socks5Request.TryRead(request, out _, out _, out int consumed, out var invalidReply));
        Assert.Equal(0, consumed);
        Assert.Equal(ReplyCode.GeneralFailure, invalidReply);
        Assert.Equal(OperationStatus.InvalidData, Socks5Request.TryRead([version], out _, out _, out _));
    }

    [Theory]
    [MemberData(nameof(WireAddresses.UnknownAddressTypes), MemberType = typeof(WireAddresses))]
    public void Read_UnknownAtyp_IsInvalidWithAddressTypeNotSupported(byte atyp)
    {
        byte[] request = [0x05, 0x01, 0x00, atyp, 127, 0, 0, 1, 0x00, 0x50];

        Assert.Equal(OperationStatus.InvalidData, Socks5Request.TryRead(request, out _, out _, out int consumed, out var invalidReply));
        Assert.Equal(0, consumed);
        Assert.Equal(ReplyCode.AddressTypeNotSupported, invalidReply);

        // Known from the ATYP byte alone.
        Assert.Equal(OperationStatus.InvalidData, Socks5Request.TryRead(request.AsSpan(0, 4), out _, out _, out _, out invalidReply));
        Assert.Equal(ReplyCode.AddressTypeNotSupported, invalidReply);
    }

    [Fact]
    public void Read_ZeroLengthName_IsInvalidWithGeneralFailure()
    {
        byte[] request = Hex("05 01 00 03 00 00 50");

        Assert.Equal(OperationStatus.InvalidData, Socks5Request.TryRead(request, out _, out _, out int consumed, out var invalidReply));
        Assert.Equal(0, consumed);
        Assert.Equal(ReplyCode.GeneralFailure, invalidReply);
    }

    [Fact]
    public void Read_WithoutInvalidReply_GivesTheSameStatus()
    {
        Assert.Equal(OperationStatus.InvalidData, Socks5Request.TryRead(Hex("05 01 00 09 00"), out _, out _, out _));
        Assert.Equal(OperationStatus.NeedMoreData, Socks5Request.TryRead(Hex("05 01 00 01 00"), out _, out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void Write_NameOf0Or256Bytes_Throws(int length)
    {
        var buffer = new byte[Socks5Request.MaxLength + 10];
        var name = Repeat((byte)'n', length);

        Assert.Throws<ArgumentException>(() => Socks5Request.Write(buffer, Socks5Command.Connect, new SocksAddress(AddressType.DomainName, name, 80)));
    }

    [Fact]
    public void MaxLength_Is262()
    {
        Assert.Equal(262, Socks5Request.MaxLength);
    }
}
