using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>Where <see cref="UdpOverTcpConnection.ReadAsync"/> hands each frame, on the reader's task, in the order they came.</summary>
internal interface IFrameSink
{
    /// <summary>A datagram frame (mapping 0) or a mapped one; the spans are valid only during the call.</summary>
    void OnDatagram(ushort mapping, in SocksAddress source, ReadOnlySpan<byte> payload);

    /// <summary>A control frame holding one line of the text protocol, its <c>\n</c> included.</summary>
    void OnLine(ReadOnlySpan<byte> line);

    /// <summary>A control frame that is not one line of at most 1024 bytes: skipped.</summary>
    void OnLineSkipped();
}
