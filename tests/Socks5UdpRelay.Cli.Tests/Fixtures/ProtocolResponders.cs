using System.Buffers.Binary;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>
/// Answer functions for <see cref="UdpResponder"/> that, like real servers, answer only a
/// well-formed request of their protocol and ignore anything else (an empty datagram included).
/// </summary>
internal static class ProtocolResponders
{
    /// <summary>RFC 1035: a query (QR 0, OPCODE 0) with one question whose name parses; answered with QR 1, the same ID and question.</summary>
    public static byte[]? Dns(byte[] query)
    {
        if (query.Length < 12 + 5 || (query[2] & 0x80) != 0 || ((query[2] >> 3) & 0xF) != 0 || BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(4)) != 1)
        {
            return null;
        }

        int i = 12;
        while (i < query.Length && query[i] != 0)
        {
            if (query[i] > 63)
            {
                return null;
            }

            i += query[i] + 1;
        }

        if (i + 5 != query.Length)
        {
            return null;
        }

        var answer = (byte[])query.Clone();
        answer[2] |= 0x80;
        return answer;
    }

    /// <summary>RFC 5905: 48 bytes or more, version 3 or 4, mode 3 (client); answered in mode 4 with the origin timestamp set.</summary>
    public static byte[]? Ntp(byte[] request)
    {
        int version = (request.Length > 0 ? request[0] : 0) >> 3 & 7;
        if (request.Length < 48 || (request[0] & 7) != 3 || version is not (3 or 4))
        {
            return null;
        }

        var answer = new byte[48];
        answer[0] = (byte)((version << 3) | 4);
        answer[1] = 2;
        request.AsSpan(40, 8).CopyTo(answer.AsSpan(24));
        return answer;
    }

    /// <summary>
    /// SNMP v1/v2c GetRequest with community "public" (BER, short and long lengths): answered with
    /// a GetResponse that echoes the request ID.
    /// </summary>
    public static byte[]? Snmp(byte[] request)
    {
        try
        {
            var message = new Ber(request);
            var sequence = message.Read(0x30);
            if (!message.AtEnd)
            {
                return null;
            }

            var version = sequence.Read(0x02);
            var community = sequence.Read(0x04);
            var pdu = sequence.Read(0xA0);
            if (version.Length != 1 || version.Value[0] > 1 || !community.Value.SequenceEqual("public"u8.ToArray()) || !sequence.AtEnd)
            {
                return null;
            }

            var requestId = pdu.Read(0x02);
            pdu.Read(0x02);
            pdu.Read(0x02);
            var bindings = pdu.Read(0x30);
            var binding = bindings.Read(0x30);
            binding.Read(0x06);
            binding.Read(0x05);
            if (!pdu.AtEnd || !binding.AtEnd)
            {
                return null;
            }

            byte[] id = requestId.Value;
            byte[] body = [0x02, 1, version.Value[0], 0x04, 6, .. "public"u8, 0xA2, (byte)(id.Length + 2 + 6 + 2), 0x02, (byte)id.Length, .. id, 0x02, 1, 0, 0x02, 1, 0, 0x30, 0];
            return [0x30, (byte)body.Length, .. body];
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A strict BER TLV reader: wrong tag, bad length or overrun is a FormatException.</summary>
    private sealed class Ber
    {
        private readonly byte[] data;
        private readonly int _start;
        private readonly int _end;
        private int _position;

        public Ber(byte[] data, int start = 0, int end = -1)
        {
            this.data = data;
            _start = start;
            _position = start;
            _end = end < 0 ? data.Length : end;
        }

        public byte[] Value => data[_start.._end];

        public int Length => _end - _start;

        public bool AtEnd => _position == _end;

        public Ber Read(byte tag)
        {
            if (_position + 2 > _end || data[_position] != tag)
            {
                throw new FormatException();
            }

            int length = data[_position + 1];
            int offset = _position + 2;
            if (length > 0x80)
            {
                int bytes = length & 0x7F;
                if (bytes > 2 || offset + bytes > _end)
                {
                    throw new FormatException();
                }

                length = 0;
                for (int i = 0; i < bytes; i++)
                {
                    length = (length << 8) | data[offset++];
                }
            }
            else if (length == 0x80)
            {
                throw new FormatException();
            }

            if (offset + length > _end)
            {
                throw new FormatException();
            }

            _position = offset + length;
            return new Ber(data, offset, offset + length);
        }
    }
}
