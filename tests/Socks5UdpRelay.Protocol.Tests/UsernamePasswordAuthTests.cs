using System.Buffers;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class UsernamePasswordAuthTests
{
    private static readonly StatusReader ReadRequest = static (ReadOnlySpan<byte> s, out int c) => UsernamePasswordAuth.TryReadRequest(s, out _, out _, out c);

    private static readonly StatusReader ReadReply = static (ReadOnlySpan<byte> s, out int c) => UsernamePasswordAuth.TryReadReply(s, out _, out c);

    /// <summary>UNAME, PASSWD and the request they make (VER ULEN UNAME PLEN PASSWD, VER = 1).</summary>
    public static TheoryData<byte[], byte[], byte[]> Requests => new()
    {
        { Ascii("u"), Ascii("p"), Hex("01 01 75 01 70") },
        { Ascii("user"), Ascii("pass"), Hex("01 04 75 73 65 72 04 70 61 73 73") },
        { [0x00, 0xFF], [0x20, 0x3D, 0x0A], Hex("01 02 00 FF 03 20 3D 0A") },
        { Repeat((byte)'U', 255), Repeat((byte)'P', 255), Concat([0x01, 0xFF], Repeat((byte)'U', 255), [0xFF], Repeat((byte)'P', 255)) },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void Request_Write_MatchesRfcBytes(byte[] username, byte[] password, byte[] expected)
    {
        var buffer = new byte[UsernamePasswordAuth.MaxRequestLength];

        int written = UsernamePasswordAuth.WriteRequest(buffer, username, password);

        Assert.Equal(expected, buffer[..written]);
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public void Request_WriteThenRead_RoundTrips(byte[] username, byte[] password, byte[] expected)
    {
        var buffer = new byte[UsernamePasswordAuth.MaxRequestLength];
        int written = UsernamePasswordAuth.WriteRequest(buffer, username, password);

        var status = UsernamePasswordAuth.TryReadRequest(buffer.AsSpan(0, written), out var user, out var pass, out int consumed);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(expected.Length, consumed);
        Assert.Equal(username, user.ToArray());
        Assert.Equal(password, pass.ToArray());
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public void Request_SplitAtEveryPoint_NeedsMoreDataUntilComplete(byte[] username, byte[] password, byte[] request)
    {
        AssertNeedsMoreDataUntilComplete(request, ReadRequest);
        Assert.Equal(OperationStatus.Done, UsernamePasswordAuth.TryReadRequest(Concat(request, Trailer), out var user, out var pass, out _));
        Assert.Equal(username, user.ToArray());
        Assert.Equal(password, pass.ToArray());
    }

    [Fact]
    public void MaxRequestLength_Is513()
    {
        Assert.Equal(513, UsernamePasswordAuth.MaxRequestLength);
    }

    [Theory]
    [InlineData("05 01 75 01 70")]
    [InlineData("00 01 75 01 70")]
    [InlineData("02 01 75 01 70")]
    [InlineData("05")]
    public void Request_BadVersion_IsInvalid(string hex)
    {
        Assert.Equal(OperationStatus.InvalidData, UsernamePasswordAuth.TryReadRequest(Hex(hex), out _, out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Theory]
    [InlineData("01 00 01 70")]
    [InlineData("01 00")]
    public void Request_ZeroUsernameLength_IsInvalid(string hex)
    {
        Assert.Equal(OperationStatus.InvalidData, UsernamePasswordAuth.TryReadRequest(Hex(hex), out _, out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Theory]
    [InlineData("01 01 75 00")]
    [InlineData("01 01 75 00 70")]
    public void Request_ZeroPasswordLength_IsInvalid(string hex)
    {
        Assert.Equal(OperationStatus.InvalidData, UsernamePasswordAuth.TryReadRequest(Hex(hex), out _, out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(256, 1)]
    [InlineData(1, 256)]
    public void Request_WriteFieldOutsideOneTo255Bytes_Throws(int usernameLength, int passwordLength)
    {
        var buffer = new byte[1024];

        Assert.Throws<ArgumentException>(() => UsernamePasswordAuth.WriteRequest(buffer, new byte[usernameLength], new byte[passwordLength]));
    }

    [Theory]
    [InlineData(UsernamePasswordAuth.StatusSuccess, "01 00")]
    [InlineData(UsernamePasswordAuth.StatusFailure, "01 01")]
    [InlineData(0xFF, "01 FF")]
    public void Reply_WriteThenRead_RoundTrips(byte status, string expectedHex)
    {
        var buffer = new byte[UsernamePasswordAuth.ReplyLength];

        int written = UsernamePasswordAuth.WriteReply(buffer, status);

        Assert.Equal(Hex(expectedHex), buffer[..written]);
        Assert.Equal(OperationStatus.Done, UsernamePasswordAuth.TryReadReply(buffer, out byte read, out int consumed));
        Assert.Equal(2, consumed);
        Assert.Equal(status, read);
    }

    [Theory]
    [InlineData("01 00")]
    [InlineData("01 01")]
    public void Reply_SplitAtEveryPoint_NeedsMoreDataUntilComplete(string hex)
    {
        AssertNeedsMoreDataUntilComplete(Hex(hex), ReadReply);
    }

    [Theory]
    [InlineData("05 00")]
    [InlineData("00 00")]
    [InlineData("05")]
    public void Reply_BadVersion_IsInvalid(string hex)
    {
        Assert.Equal(OperationStatus.InvalidData, UsernamePasswordAuth.TryReadReply(Hex(hex), out _, out int consumed));
        Assert.Equal(0, consumed);
    }
}
