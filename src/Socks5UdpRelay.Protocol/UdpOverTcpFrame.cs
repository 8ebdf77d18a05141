using System.Buffers;
using System.Buffers.Binary;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// The framing of datagrams on a TCP connection after <c>CMD=0x05</c>, hev-socks5-server's
/// "UDP in TCP" (the README, "UDP over TCP"):
/// <code>
/// +--------+--------+------+----------+----------+----------+
/// | DATLEN | HDRLEN | ATYP | DST.ADDR | DST.PORT |   DATA   |
/// +--------+--------+------+----------+----------+----------+
/// |   2    |   1    |  1   | Variable |    2     | Variable |
/// </code>
/// DATLEN (big-endian) counts DATA; HDRLEN counts everything before DATA: 10 for IPv4, 22 for
/// IPv6, 7 + the name's length for a name. A client that opted in to notices may also send and
/// receive two kinds of frame no other software uses: a control frame (ATYP <c>0xFF</c>,
/// HDRLEN 4, DATA one line of the text protocol, its <c>\n</c> included), and a mapped datagram
/// (ATYP with <c>0x80</c> set, then the mapping number in 2 bytes before the address, HDRLEN 2
/// more). Readers tell "need more bytes" from "malformed", and check HDRLEN against ATYP as soon
/// as both are in, so a bad header is caught without waiting for its DATA.
/// </summary>
public static class UdpOverTcpFrame
{
    /// <summary>DATLEN and HDRLEN.</summary>
    public const int LengthFields = 3;

    /// <summary>The largest DATA a hev-socks5 client accepts: it ends the session on a longer one.</summary>
    public const int CompatibleMaxData = 1500;

    /// <summary>The largest DATA any frame can announce.</summary>
    public const int MaxData = ushort.MaxValue;

    /// <summary>ATYP of a control frame.</summary>
    public const byte ControlType = 0xFF;

    /// <summary>Set in ATYP of a mapped datagram frame.</summary>
    public const byte MappedFlag = 0x80;

    /// <summary>A control frame's header: DATLEN, HDRLEN, ATYP.</summary>
    public const int ControlHeaderLength = LengthFields + 1;

    /// <summary>The mapping number of a mapped frame.</summary>
    public const int MappingLength = 2;

    /// <summary>
    /// The longest header HDRLEN (one byte) can announce: so a frame names at most a 248-byte name,
    /// 246 bytes in a mapped frame (the README, "UDP over TCP").
    /// </summary>
    public const int MaxHeaderLength = byte.MaxValue;

    /// <summary>The longest name a plain datagram frame can carry (HDRLEN = 7 + its length).</summary>
    public const int MaxNameLength = MaxHeaderLength - 7;

    /// <summary>
    /// Reads the frame at the start of <paramref name="source"/>. <paramref name="extended"/>
    /// admits control and mapped frames (a client that opted in); without it they are malformed.
    /// A DATLEN over <paramref name="maxData"/>, an unknown ATYP, an empty name, or a HDRLEN
    /// that does not match ATYP is <see cref="OperationStatus.InvalidData"/>: the stream has no
    /// resynchronisation point after it.
    /// </summary>
    public static OperationStatus TryRead(ReadOnlySpan<byte> source, bool extended, int maxData, out UdpFrame frame, out int consumed)
        => TryRead(source, extended, maxData, out frame, out consumed, out _);

    /// <summary>As the other overload; <paramref name="error"/> says what was malformed.</summary>
    public static OperationStatus TryRead(ReadOnlySpan<byte> source, bool extended, int maxData, out UdpFrame frame, out int consumed, out UdpFrameError error)
    {
        frame = default;
        consumed = 0;
        error = UdpFrameError.None;
        if (source.Length >= 2 && BinaryPrimitives.ReadUInt16BigEndian(source) > maxData)
        {
            error = UdpFrameError.TooLong;
            return OperationStatus.InvalidData;
        }

        if (source.Length < LengthFields + 1)
        {
            return OperationStatus.NeedMoreData;
        }

        int dataLength = BinaryPrimitives.ReadUInt16BigEndian(source);
        int headerLength = source[2];
        byte type = source[3];
        if (type == ControlType)
        {
            error = !extended ? UdpFrameError.NotOptedIn : headerLength != ControlHeaderLength ? UdpFrameError.HeaderLength : UdpFrameError.None;
            if (error != UdpFrameError.None)
            {
                return OperationStatus.InvalidData;
            }

            if (source.Length < headerLength + dataLength)
            {
                return OperationStatus.NeedMoreData;
            }

            frame = new UdpFrame(UdpFrameKind.Control, 0, default, source.Slice(headerLength, dataLength));
            consumed = headerLength + dataLength;
            return OperationStatus.Done;
        }

        bool mapped = (type & MappedFlag) != 0;
        if (mapped && !extended)
        {
            error = UdpFrameError.NotOptedIn;
            return OperationStatus.InvalidData;
        }

        // The address follows ATYP, and the mapping number when there is one.
        int addressStart = LengthFields + 1 + (mapped ? MappingLength : 0);
        var addressType = (AddressType)(type & ~MappedFlag);
        var status = SocksAddressCodec.TryReadAddressLength(addressType, source, addressStart, out int nameLengthByte, out int addressLength);
        if (status != OperationStatus.Done)
        {
            error = status == OperationStatus.NeedMoreData ? UdpFrameError.None
                : addressType == AddressType.DomainName ? UdpFrameError.EmptyName : UdpFrameError.UnknownType;
            return status;
        }

        int expected = addressStart + nameLengthByte + addressLength + 2;
        if (headerLength != expected)
        {
            error = UdpFrameError.HeaderLength;
            return OperationStatus.InvalidData;
        }

        if (source.Length < headerLength + dataLength)
        {
            return OperationStatus.NeedMoreData;
        }

        var header = source[..headerLength];
        ushort mapping = mapped ? BinaryPrimitives.ReadUInt16BigEndian(header.Slice(LengthFields + 1, MappingLength)) : (ushort)0;
        var addressBytes = header.Slice(addressStart + nameLengthByte, addressLength);
        ushort port = BinaryPrimitives.ReadUInt16BigEndian(header[^2..]);
        frame = new UdpFrame(UdpFrameKind.Datagram, mapping, new SocksAddress(addressType, addressBytes, port), source.Slice(headerLength, dataLength));
        consumed = headerLength + dataLength;
        return OperationStatus.Done;
    }

    /// <summary>The header's length for a datagram to or from <paramref name="address"/> in <paramref name="mapping"/> (a mapped frame when not 0).</summary>
    public static int GetHeaderLength(in SocksAddress address, ushort mapping = 0)
        => LengthFields + (mapping != 0 ? MappingLength : 0) + address.EncodedLength;

    /// <summary>
    /// Writes a datagram frame's header for <paramref name="dataLength"/> bytes of DATA; a mapping
    /// other than 0 makes it a mapped frame (for a client that opted in only). Returns its length.
    /// </summary>
    public static int WriteDatagramHeader(Span<byte> destination, in SocksAddress address, int dataLength, ushort mapping = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)dataLength, (uint)MaxData, nameof(dataLength));
        int headerLength = GetHeaderLength(address, mapping);
        if (headerLength > MaxHeaderLength)
        {
            throw new ArgumentException(
                $"A {(mapping != 0 ? "mapped " : string.Empty)}frame names at most {MaxNameLength - (mapping != 0 ? MappingLength : 0)} bytes (HDRLEN is one byte); this name has {address.AddressBytes.Length}.",
                nameof(address));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)dataLength);
        destination[2] = (byte)headerLength;
        if (mapping == 0)
        {
            SocksAddressCodec.Write(destination[LengthFields..], address);
            return headerLength;
        }

        // ATYP first, then the mapping, then the rest of the address as SOCKS writes it.
        Span<byte> plain = stackalloc byte[SocksAddressCodec.MaxEncodedLength];
        int addressLength = SocksAddressCodec.Write(plain, address);
        destination[LengthFields] = (byte)(plain[0] | MappedFlag);
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(LengthFields + 1, MappingLength), mapping);
        plain[1..addressLength].CopyTo(destination[(LengthFields + 1 + MappingLength)..]);
        return headerLength;
    }

    /// <summary>Writes a whole datagram frame; returns its length.</summary>
    public static int WriteDatagram(Span<byte> destination, in SocksAddress address, ReadOnlySpan<byte> data, ushort mapping = 0)
    {
        int headerLength = WriteDatagramHeader(destination, address, data.Length, mapping);
        data.CopyTo(destination[headerLength..]);
        return headerLength + data.Length;
    }

    /// <summary>Writes a control frame carrying <paramref name="line"/> (one line, its <c>\n</c> included); returns its length.</summary>
    public static int WriteControl(Span<byte> destination, ReadOnlySpan<byte> line)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)line.Length, (uint)MaxData, nameof(line));
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)line.Length);
        destination[2] = ControlHeaderLength;
        destination[3] = ControlType;
        line.CopyTo(destination[ControlHeaderLength..]);
        return ControlHeaderLength + line.Length;
    }

    /// <summary>
    /// Turns a SOCKS UDP header (RFC 1928 §7, RSV as the mapping) already in front of its DATA
    /// into this framing, in place: <paramref name="buffer"/> starts with <paramref name="room"/>
    /// spare bytes — <see cref="MappingLength"/> when the header's mapping is not 0, else none
    /// (<see cref="RoomFor"/>) — then the <paramref name="udpHeaderLength"/>-byte header, then
    /// <paramref name="dataLength"/> bytes of DATA. Returns the frame's length; the frame starts
    /// at the buffer's first byte. No copy of DATA: the relay sends replies from where they were read.
    /// </summary>
    public static int RewriteUdpHeader(Span<byte> buffer, int room, int udpHeaderLength, int dataLength)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)dataLength, (uint)MaxData, nameof(dataLength));
        var udp = buffer.Slice(room, udpHeaderLength);
        ushort mapping = UdpRequestHeader.ReadMapping(udp);
        if (room != RoomFor(mapping))
        {
            throw new ArgumentException($"A header of mapping {mapping} needs {RoomFor(mapping)} spare bytes in front, not {room}.", nameof(room));
        }

        int headerLength = room + udpHeaderLength;
        if (mapping != 0)
        {
            // From RSV(2) FRAG ATYP ADDR… at offset 2 to DATLEN(2) HDRLEN ATYP|0x80 MAPPING(2) ADDR… at 0:
            // the address stays where it is; ATYP and the mapping are read before they are overwritten.
            byte type = buffer[room + UdpRequestHeader.FixedLength];
            buffer[3] = (byte)(type | MappedFlag);
            BinaryPrimitives.WriteUInt16BigEndian(buffer.Slice(4, MappingLength), mapping);
        }

        BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)dataLength);
        buffer[2] = (byte)headerLength;
        return headerLength + dataLength;
    }

    /// <summary>Spare bytes <see cref="RewriteUdpHeader"/> needs in front of a header of <paramref name="mapping"/>.</summary>
    public static int RoomFor(ushort mapping) => mapping == 0 ? 0 : MappingLength;
}
