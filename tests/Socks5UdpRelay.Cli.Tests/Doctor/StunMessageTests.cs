using System.Net;
using Socks5UdpRelay.Cli.Doctor;

namespace Socks5UdpRelay.Cli.Tests.Doctor;

/// <summary>The STUN codec byte by byte, with RFC 5769's test vectors for XOR-MAPPED-ADDRESS.</summary>
public sealed class StunMessageTests
{
    // RFC 5769 §2.2 and §2.3: the transaction of both sample responses (cookie, then the 96-bit ID).
    private static readonly byte[] Transaction = [0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae];

    // RFC 5769 §2.2, "Sample IPv4 Response", byte for byte (SOFTWARE, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT).
    private static readonly byte[] Ipv4Response =
    [
        0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
        0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
        0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
        0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
        0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
    ];

    [Fact]
    public void BindingRequest_WithoutChange_Is20BytesOfHeader()
    {
        var buffer = new byte[StunMessage.MaxRequestLength];

        int length = StunMessage.WriteBindingRequest(buffer, Transaction.AsSpan(4), 0);

        Assert.Equal(20, length);
        Assert.Equal([0x00, 0x01, 0x00, 0x00, .. Transaction], buffer[..20]);
    }

    [Fact]
    public void BindingRequest_WithChangeIpAndPort_CarriesChangeRequest()
    {
        var buffer = new byte[StunMessage.MaxRequestLength];

        int length = StunMessage.WriteBindingRequest(buffer, Transaction.AsSpan(4), StunMessage.ChangeIp | StunMessage.ChangePort);

        Assert.Equal(28, length);
        Assert.Equal([0x00, 0x01, 0x00, 0x08, .. Transaction, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x06], buffer);
    }

    [Fact]
    public void Rfc5769Ipv4Response_XorMappedAddress()
    {
        Assert.True(StunMessage.TryReadBindingResponse(Ipv4Response, Transaction, out var response));

        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), response!.Mapped);
        Assert.Null(response.Other);
    }

    [Fact]
    public void Rfc5769Ipv6Address_XorMappedAddress()
    {
        // RFC 5769 §2.3's XOR-MAPPED-ADDRESS after the same header, the other attributes left out.
        byte[] message =
        [
            0x01, 0x01, 0x00, 0x18, .. Transaction,
            0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
            0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
        ];

        Assert.True(StunMessage.TryReadBindingResponse(message, Transaction, out var response));

        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853), response!.Mapped);
    }

    [Fact]
    public void Rfc3489Response_MappedAndChangedAddress()
    {
        // What stund sends: MAPPED-ADDRESS (0x0001) and CHANGED-ADDRESS (0x0005), no XOR.
        byte[] message =
        [
            0x01, 0x01, 0x00, 0x18, .. Transaction,
            0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x1f, 0x90, 127, 0, 0, 1,
            0x00, 0x05, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x97, 127, 0, 0, 2,
        ];

        Assert.True(StunMessage.TryReadBindingResponse(message, Transaction, out var response));

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), response!.Mapped);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 3479), response.Other);
    }

    [Fact]
    public void EveryTruncation_IsNotAResponse_AndNeverThrows()
    {
        for (int length = 0; length < Ipv4Response.Length; length++)
        {
            Assert.False(StunMessage.TryReadBindingResponse(Ipv4Response.AsSpan(0, length), Transaction, out _), $"{length} bytes");
        }
    }

    [Fact]
    public void AnotherTransactionOrARequest_IsNotTheResponse()
    {
        byte[] otherTransaction = [.. Transaction];
        otherTransaction[^1] ^= 1;
        byte[] request = [.. Ipv4Response];
        request[1] = 0x01;
        request[0] = 0x00;

        Assert.False(StunMessage.TryReadBindingResponse(Ipv4Response, otherTransaction, out _));
        Assert.False(StunMessage.TryReadBindingResponse(request, Transaction, out _));
    }

    [Fact]
    public void AttributeRunningPastTheMessage_IsMalformed()
    {
        byte[] message = [0x01, 0x01, 0x00, 0x08, .. Transaction, 0x00, 0x20, 0x00, 0x40, 0x00, 0x01, 0xa1, 0x47];

        Assert.False(StunMessage.TryReadBindingResponse(message, Transaction, out _));
    }
}
