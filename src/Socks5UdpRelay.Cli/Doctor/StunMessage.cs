using System.Buffers.Binary;
using System.Net;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>What a STUN Binding success response says: the mapped address, and the server's other address (for the change tests).</summary>
internal sealed record StunResponse(IPEndPoint? Mapped, IPEndPoint? Other);

/// <summary>
/// The STUN Binding request and response, as much as NAT behaviour discovery needs: RFC 5389 §6
/// header and attributes, RFC 5780 §7 (CHANGE-REQUEST, OTHER-ADDRESS) and the RFC 3489 forms
/// older servers such as stund send (MAPPED-ADDRESS, CHANGED-ADDRESS). The magic cookie is sent
/// as the first four bytes of the transaction ID, which an RFC 3489 server echoes unchanged.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |0 0|     STUN Message Type     |         Message Length        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Magic Cookie                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Transaction ID (96 bits)                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Attributes follow as Type (16) Length (16) Value, padded to a multiple of 4 bytes.
/// </summary>
internal static class StunMessage
{
    public const int HeaderLength = 20;

    /// <summary>The transaction is compared as all 16 bytes after the length: cookie and ID.</summary>
    public const int TransactionLength = 16;

    /// <summary>A request with CHANGE-REQUEST: 20 + 8 bytes.</summary>
    public const int MaxRequestLength = HeaderLength + 8;

    public const ushort BindingRequest = 0x0001;
    public const ushort BindingSuccess = 0x0101;
    public const uint MagicCookie = 0x2112A442;

    public const ushort MappedAddress = 0x0001;
    public const ushort ChangeRequest = 0x0003;
    public const ushort ChangedAddress = 0x0005;
    public const ushort XorMappedAddress = 0x0020;

    /// <summary>XOR-MAPPED-ADDRESS as drafts of RFC 5389 (and some servers still) numbered it.</summary>
    public const ushort XorMappedAddressOld = 0x8020;
    public const ushort OtherAddress = 0x802C;

    /// <summary>CHANGE-REQUEST flags (RFC 5780 §7.2): answer from the other IP address, from the other port.</summary>
    public const uint ChangeIp = 0x04;
    public const uint ChangePort = 0x02;

    /// <summary>Writes a Binding request with <paramref name="transaction"/>'s last 12 bytes as the ID and, when <paramref name="change"/> is not 0, a CHANGE-REQUEST.</summary>
    public static int WriteBindingRequest(Span<byte> destination, ReadOnlySpan<byte> transactionId, uint change)
    {
        if (transactionId.Length != 12)
        {
            throw new ArgumentException("A STUN transaction ID has 12 bytes.", nameof(transactionId));
        }

        int attributes = change != 0 ? 8 : 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination, BindingRequest);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)attributes);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], MagicCookie);
        transactionId.CopyTo(destination[8..]);
        if (change != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[20..], ChangeRequest);
            BinaryPrimitives.WriteUInt16BigEndian(destination[22..], 4);
            BinaryPrimitives.WriteUInt32BigEndian(destination[24..], change);
        }

        return HeaderLength + attributes;
    }

    /// <summary>
    /// Reads a Binding success response to the request whose bytes 4 to 19 were <paramref name="transaction"/>.
    /// False for anything else: another message type, another transaction, a truncated attribute.
    /// </summary>
    public static bool TryReadBindingResponse(ReadOnlySpan<byte> message, ReadOnlySpan<byte> transaction, out StunResponse? response)
    {
        response = null;
        if (message.Length < HeaderLength
            || BinaryPrimitives.ReadUInt16BigEndian(message) != BindingSuccess
            || !message.Slice(4, TransactionLength).SequenceEqual(transaction))
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if (length % 4 != 0 || HeaderLength + length > message.Length)
        {
            return false;
        }

        IPEndPoint? mapped = null;
        IPEndPoint? xorMapped = null;
        IPEndPoint? other = null;
        var attributes = message.Slice(HeaderLength, length);
        while (attributes.Length >= 4)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(attributes);
            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(attributes[2..]);
            int padded = (valueLength + 3) & ~3;
            if (4 + padded > attributes.Length)
            {
                return false;
            }

            var value = attributes.Slice(4, valueLength);
            switch (type)
            {
                case MappedAddress:
                    mapped = ReadAddress(value, default);
                    break;
                case XorMappedAddress or XorMappedAddressOld:
                    xorMapped = ReadAddress(value, transaction);
                    break;
                case OtherAddress or ChangedAddress:
                    other ??= ReadAddress(value, default);
                    break;
            }

            attributes = attributes[(4 + padded)..];
        }

        response = new StunResponse(xorMapped ?? mapped, other);
        return true;
    }

    /// <summary>
    /// An address attribute (RFC 5389 §15.1): reserved, family (1 IPv4, 2 IPv6), port, address.
    /// With <paramref name="xorKey"/> (cookie and transaction ID) it is XOR-MAPPED-ADDRESS (§15.2).
    /// Null when malformed.
    /// </summary>
    private static IPEndPoint? ReadAddress(ReadOnlySpan<byte> value, ReadOnlySpan<byte> xorKey)
    {
        if (value.Length < 4)
        {
            return null;
        }

        int addressLength = value[1] switch
        {
            0x01 => 4,
            0x02 => 16,
            _ => 0,
        };
        if (addressLength == 0 || value.Length < 4 + addressLength)
        {
            return null;
        }

        int port = BinaryPrimitives.ReadUInt16BigEndian(value[2..]);
        Span<byte> address = stackalloc byte[addressLength];
        value.Slice(4, addressLength).CopyTo(address);
        if (!xorKey.IsEmpty)
        {
            port ^= (int)(MagicCookie >> 16);
            for (int i = 0; i < addressLength; i++)
            {
                address[i] ^= xorKey[i];
            }
        }

        return new IPEndPoint(new IPAddress(address), port);
    }
}
