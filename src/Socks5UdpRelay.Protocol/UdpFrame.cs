namespace Socks5UdpRelay.Protocol;

/// <summary>What a UDP-over-TCP frame carries.</summary>
public enum UdpFrameKind : byte
{
    /// <summary>A datagram: to its destination (client to server) or from its source (server to client).</summary>
    Datagram,

    /// <summary>One line of the text protocol (a notice, a command or an answer); only after the client opted in.</summary>
    Control,
}

/// <summary>One frame read by <c>UdpOverTcpFrame.TryRead</c>; its spans point into the reader's buffer.</summary>
public readonly ref struct UdpFrame(UdpFrameKind kind, ushort mapping, SocksAddress address, ReadOnlySpan<byte> data)
{
    public UdpFrameKind Kind { get; } = kind;

    /// <summary>The datagram's mapping (the README, "Client commands"); 0 in a frame without one.</summary>
    public ushort Mapping { get; } = mapping;

    /// <summary>The datagram's destination or source; default for a control frame.</summary>
    public SocksAddress Address { get; } = address;

    /// <summary>The datagram's payload, or the control frame's line (its <c>\n</c> included).</summary>
    public ReadOnlySpan<byte> Data { get; } = data;
}
