using System.Buffers;
using static Socks5UdpRelay.Protocol.Tests.TestBytes;

namespace Socks5UdpRelay.Protocol.Tests;

public class MethodSelectionTests
{
    private static readonly StatusReader ReadGreeting = static (ReadOnlySpan<byte> s, out int c) => MethodSelection.TryReadGreeting(s, out _, out c);

    private static readonly StatusReader ReadReply = static (ReadOnlySpan<byte> s, out int c) => MethodSelection.TryReadReply(s, out _, out c);

    /// <summary>Method lists and the greeting each must produce (VER NMETHODS METHODS).</summary>
    public static TheoryData<AuthMethod[], byte[]> Greetings => new()
    {
        { [AuthMethod.NoAuthentication], Hex("05 01 00") },
        { [AuthMethod.NoAuthentication, AuthMethod.UsernamePassword], Hex("05 02 00 02") },
        { [AuthMethod.Gssapi, AuthMethod.UsernamePassword, AuthMethod.NoAuthentication], Hex("05 03 01 02 00") },
        { Enumerable.Repeat(AuthMethod.UsernamePassword, 255).ToArray(), Concat([0x05, 0xFF], Repeat(0x02, 255)) },
    };

    public static TheoryData<AuthMethod> Methods => new()
    {
        AuthMethod.NoAuthentication, AuthMethod.Gssapi, AuthMethod.UsernamePassword, AuthMethod.NoAcceptableMethods,
    };

    [Theory]
    [MemberData(nameof(Greetings))]
    public void Greeting_Write_MatchesRfcBytes(AuthMethod[] methods, byte[] expected)
    {
        var buffer = new byte[MethodSelection.MaxGreetingLength];

        int written = MethodSelection.WriteGreeting(buffer, methods);

        Assert.Equal(expected, buffer[..written]);
    }

    [Theory]
    [MemberData(nameof(Greetings))]
    public void Greeting_WriteThenRead_RoundTrips(AuthMethod[] methods, byte[] expected)
    {
        var buffer = new byte[MethodSelection.MaxGreetingLength];
        int written = MethodSelection.WriteGreeting(buffer, methods);

        var status = MethodSelection.TryReadGreeting(buffer.AsSpan(0, written), out var read, out int consumed);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(expected.Length, consumed);
        Assert.Equal(methods.Select(m => (byte)m).ToArray(), read.ToArray());
    }

    [Theory]
    [MemberData(nameof(Greetings))]
    public void Greeting_SplitAtEveryPoint_NeedsMoreDataUntilComplete(AuthMethod[] methods, byte[] greeting)
    {
        AssertNeedsMoreDataUntilComplete(greeting, ReadGreeting);
        Assert.Equal(OperationStatus.Done, MethodSelection.TryReadGreeting(Concat(greeting, Trailer), out var read, out _));
        Assert.Equal(methods.Length, read.Length);
    }

    [Fact]
    public void Greeting_UnknownMethods_AreReturnedForTheServerToRefuse()
    {
        Assert.Equal(OperationStatus.Done, MethodSelection.TryReadGreeting(Hex("05 03 80 FE 03"), out var methods, out int consumed));
        Assert.Equal(5, consumed);
        Assert.Equal(Hex("80 FE 03"), methods.ToArray());
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x01)]
    [InlineData(0x04)]
    [InlineData(0x06)]
    [InlineData(0xFF)]
    public void Greeting_BadVersion_IsInvalidFromTheFirstByte(byte version)
    {
        Assert.Equal(OperationStatus.InvalidData, MethodSelection.TryReadGreeting([version, 0x01, 0x00], out _, out int consumed));
        Assert.Equal(0, consumed);
        Assert.Equal(OperationStatus.InvalidData, MethodSelection.TryReadGreeting([version], out _, out _));
    }

    [Fact]
    public void Greeting_ZeroMethods_IsInvalid()
    {
        Assert.Equal(OperationStatus.InvalidData, MethodSelection.TryReadGreeting(Hex("05 00"), out _, out int consumed));
        Assert.Equal(0, consumed);
        Assert.Equal(OperationStatus.InvalidData, MethodSelection.TryReadGreeting(Hex("05 00 00 02"), out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void Greeting_WriteNoneOrOver255Methods_Throws(int count)
    {
        var methods = Enumerable.Repeat(AuthMethod.NoAuthentication, count).ToArray();

        Assert.Throws<ArgumentException>(() => MethodSelection.WriteGreeting(new byte[300], methods));
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void MethodReply_WriteThenRead_RoundTrips(AuthMethod method)
    {
        var buffer = new byte[MethodSelection.ReplyLength];

        int written = MethodSelection.WriteReply(buffer, method);

        Assert.Equal(new byte[] { 0x05, (byte)method }, buffer[..written]);
        Assert.Equal(OperationStatus.Done, MethodSelection.TryReadReply(buffer, out var read, out int consumed));
        Assert.Equal(2, consumed);
        Assert.Equal(method, read);
    }

    [Theory]
    [InlineData(AuthMethod.NoAuthentication, "05 00")]
    [InlineData(AuthMethod.UsernamePassword, "05 02")]
    [InlineData(AuthMethod.NoAcceptableMethods, "05 FF")]
    public void MethodReply_Write_MatchesRfcBytes(AuthMethod method, string expectedHex)
    {
        var buffer = new byte[2];

        MethodSelection.WriteReply(buffer, method);

        Assert.Equal(Hex(expectedHex), buffer);
    }

    [Theory]
    [InlineData("05 00")]
    [InlineData("05 02")]
    [InlineData("05 FF")]
    public void MethodReply_SplitAtEveryPoint_NeedsMoreDataUntilComplete(string hex)
    {
        AssertNeedsMoreDataUntilComplete(Hex(hex), ReadReply);
    }

    [Theory]
    [InlineData("04 00")]
    [InlineData("01 00")]
    [InlineData("00 00")]
    public void MethodReply_BadVersion_IsInvalid(string hex)
    {
        Assert.Equal(OperationStatus.InvalidData, MethodSelection.TryReadReply(Hex(hex), out _, out int consumed));
        Assert.Equal(0, consumed);
    }
}
